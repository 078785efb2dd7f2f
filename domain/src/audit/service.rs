//! Audit use cases: sign a head, verify everything, read a tender's log.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde::{Deserialize, Serialize};

pub use super::kept::{head_record_name, publish_heads, sign_and_publish_head};
use super::kept::{verify_kept_copies, verify_outsiders_head};
use super::store::{self, chains, heads};
use super::{ChainTip, ChainVerifier, Entry, HeadBody, digest_hex, head_signing_message};
use crate::error::DomainResult;
use crate::keys::{PlatformSigner, verify_ed25519};
use crate::ports::DocumentStore;
use crate::store::begin_write;
use crate::time::rfc3339;

/// What a verification run found. `breaks` is empty when everything holds.
#[derive(Debug, Default)]
pub struct AuditReport {
    pub chains: usize,
    pub entries: u64,
    pub heads: u64,
    pub breaks: Vec<String>,
}

pub(super) const PAGE: u64 = 1000;

/// What `verify_all` is given besides the database: the platform's keys (key id → raw Ed25519
/// public key), the document store where each signed head is kept a second time, and a head an
/// outsider kept (`tenderhall audit verify --head FILE`).
#[derive(Clone, Copy)]
pub struct Witnesses<'a> {
    pub platform_keys: &'a HashMap<String, Vec<u8>>,
    pub store: Option<&'a dyn DocumentStore>,
    pub kept: Option<&'a SignedHead>,
}

/// Recomputes every chain and every signed head, and holds them against what was signed: each
/// chain's `signed_seq` against the heads that recorded it (so cutting the end of a chain together
/// with the heads that covered it shows), the heads against the copies kept in the document store
/// (so deleting heads, even all of them, shows), and against a head an outsider kept. Reads page
/// by page, so memory stays flat however long the log (one number per chain).
pub async fn verify_all(
    db: &DatabaseConnection,
    witnesses: Witnesses<'_>,
) -> Result<AuditReport, DbErr> {
    use sea_orm::{AccessMode, IsolationLevel};
    // One snapshot for the heads and the chains: a head signed while verifying would otherwise
    // move a chain's signed mark past the heads already read (PostgreSQL's default gives each
    // statement its own snapshot; a SQLite read transaction keeps its first).
    let txn = if crate::store::is_postgres(db) {
        db.begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?
    } else {
        db.begin().await?
    };
    let live = db;
    let db = &txn;
    let mut report = AuditReport::default();
    let recorded = verify_heads(db, witnesses.platform_keys, &mut report).await?;
    for chain in store::chain_names(db).await? {
        report.chains += 1;
        let mut verifier = ChainVerifier::new(&chain);
        let mut after = 0;
        let mut broken = false;
        loop {
            let page = store::entries_after(db, &chain, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for entry in &page {
                report.entries += 1;
                if let Err(b) = verifier.push(entry) {
                    report.breaks.push(b.to_string());
                    broken = true;
                    break;
                }
            }
            if broken {
                break;
            }
        }
        if broken {
            continue;
        }
        match store::tip(db, &chain).await? {
            Some(tip) => {
                if let Err(b) = verifier.finish(tip.last_seq, &tip.last_hash) {
                    report.breaks.push(b.to_string());
                }
                if let Some(b) = signed_mark_break(&tip, recorded.get(&chain).copied()) {
                    report.breaks.push(b);
                }
            }
            None => report
                .breaks
                .push(format!("chain `{chain}`: its tip record was deleted")),
        }
    }
    if let Some(store) = witnesses.store {
        verify_kept_copies(db, live, witnesses.platform_keys, store, &mut report).await?;
    }
    if let Some(kept) = witnesses.kept {
        verify_outsiders_head(db, witnesses.platform_keys, kept, &mut report).await?;
    }
    txn.commit().await?;
    Ok(report)
}

/// A chain's own mark of how far it was signed (`signed_seq`) against the last entry the heads
/// recorded for it: they move together in one transaction, so any difference is tampering.
fn signed_mark_break(tip: &chains::Model, recorded: Option<i64>) -> Option<String> {
    let chain = &tip.chain;
    if tip.signed_seq > tip.last_seq {
        return Some(format!(
            "chain `{chain}`: entry {} was signed but the chain now ends at entry {}",
            tip.signed_seq, tip.last_seq
        ));
    }
    match recorded {
        Some(seq) if seq == tip.signed_seq => None,
        Some(seq) if seq > tip.signed_seq => Some(format!(
            "chain `{chain}`: a signed head recorded entry {seq} but the chain's signed mark says {}",
            tip.signed_seq
        )),
        _ if tip.signed_seq == 0 => None,
        _ => Some(format!(
            "chain `{chain}`: entry {} was signed, but the signed head that recorded it is missing",
            tip.signed_seq
        )),
    }
}

/// Checks the heads in the database: consecutive from 1, bodies unchanged, signatures valid, each
/// following the one before, every chain tip they recorded still stored. Returns, per chain, the
/// last entry any head recorded.
async fn verify_heads(
    db: &impl ConnectionTrait,
    platform_keys: &HashMap<String, Vec<u8>>,
    report: &mut AuditReport,
) -> Result<HashMap<String, i64>, DbErr> {
    let mut recorded = HashMap::new();
    let mut prev_digest: Option<String> = None;
    let mut expected_seq = 1;
    loop {
        let page = heads::Entity::find()
            .filter(heads::Column::Seq.gte(expected_seq))
            .order_by_asc(heads::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        if page.is_empty() {
            return Ok(recorded);
        }
        for head in page {
            report.heads += 1;
            let name = format!("signed head {}", head.seq);
            if head.seq != expected_seq {
                report
                    .breaks
                    .push(format!("signed head {expected_seq} is missing"));
                return Ok(recorded);
            }
            if let Err(why) = check_head(platform_keys, &head) {
                report.breaks.push(format!("{name}: {why}"));
                return Ok(recorded);
            }
            let body: HeadBody = match serde_json::from_str(&head.body) {
                Ok(body) => body,
                Err(e) => {
                    report.breaks.push(format!("{name}: unreadable body ({e})"));
                    return Ok(recorded);
                }
            };
            if body.seq != head.seq || body.prev_digest != prev_digest {
                report
                    .breaks
                    .push(format!("{name}: it does not follow the head before it"));
                return Ok(recorded);
            }
            for tip in &body.chains {
                let last = recorded.entry(tip.chain.clone()).or_insert(0);
                *last = std::cmp::max(*last, tip.seq);
                match store::entry_at(db, &tip.chain, tip.seq).await? {
                    Some(entry) if entry.hash == tip.hash => {}
                    Some(_) => report.breaks.push(format!(
                        "chain `{}`, entry {}: differs from what {name} recorded",
                        tip.chain, tip.seq
                    )),
                    None => report.breaks.push(format!(
                        "chain `{}`, entry {}: recorded by {name} but no longer stored",
                        tip.chain, tip.seq
                    )),
                }
            }
            prev_digest = Some(head.digest);
            expected_seq += 1;
        }
    }
}

/// A head's body hashes to its digest and the digest carries the platform's signature.
fn check_head(
    platform_keys: &HashMap<String, Vec<u8>>,
    head: &heads::Model,
) -> Result<(), &'static str> {
    if digest_hex(&head.body) != head.digest {
        return Err("its body was changed after it was signed");
    }
    if !signature_verifies(platform_keys, &head.key_id, &head.digest, &head.signature) {
        return Err("the platform signature does not verify");
    }
    Ok(())
}

pub(super) fn signature_verifies(
    platform_keys: &HashMap<String, Vec<u8>>,
    key_id: &str,
    digest: &str,
    signature: &str,
) -> bool {
    platform_keys
        .get(key_id)
        .is_some_and(|key| verify_ed25519(key, &head_signing_message(digest), signature))
}

/// A published head: what outsiders keep to detect a rewritten history later (the answer of
/// `GET /api/v1/audit/heads/latest`, which `tenderhall audit verify --head FILE` reads back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHead {
    pub seq: i64,
    pub signed_at: DateTime<Utc>,
    pub digest: String,
    pub key_id: String,
    pub signature: String,
}

impl From<heads::Model> for SignedHead {
    fn from(m: heads::Model) -> Self {
        Self {
            seq: m.seq,
            signed_at: m.signed_at,
            digest: m.digest,
            key_id: m.key_id,
            signature: m.signature,
        }
    }
}

/// Signs a new head over the chains that moved since the last one. `None` when nothing moved, or
/// when another node signed the same head at the same moment.
pub async fn sign_head(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    now: DateTime<Utc>,
) -> DomainResult<Option<SignedHead>> {
    let txn = begin_write(db).await?;
    let previous = heads::Entity::find()
        .order_by_desc(heads::Column::Seq)
        .one(&txn)
        .await?;
    let moved = chains::Entity::find()
        .filter(chains::Column::LastSeq.gt(0))
        .filter(ExprTrait::ne(
            Expr::col(chains::Column::LastSeq),
            Expr::col(chains::Column::SignedSeq),
        ))
        .order_by_asc(chains::Column::Chain)
        .lock_exclusive()
        .all(&txn)
        .await?;
    if moved.is_empty() {
        txn.rollback().await?;
        return Ok(None);
    }
    let body = HeadBody {
        seq: previous.as_ref().map_or(1, |h| h.seq + 1),
        signed_at: rfc3339(now),
        prev_digest: previous.map(|h| h.digest),
        chains: moved
            .iter()
            .map(|c| ChainTip {
                chain: c.chain.clone(),
                seq: c.last_seq,
                hash: c.last_hash.clone(),
            })
            .collect(),
    };
    let text = body.canonical().map_err(crate::DomainError::internal)?;
    let digest = digest_hex(&text);
    let head = heads::Model {
        seq: body.seq,
        signed_at: now,
        body: text,
        signature: signer.sign(&head_signing_message(&digest)),
        digest,
        key_id: signer.key_id().to_owned(),
    };
    let inserted = heads::Entity::insert(heads::ActiveModel {
        seq: Set(head.seq),
        signed_at: Set(head.signed_at),
        body: Set(head.body.clone()),
        digest: Set(head.digest.clone()),
        key_id: Set(head.key_id.clone()),
        signature: Set(head.signature.clone()),
    })
    .exec_without_returning(&txn)
    .await;
    if inserted.is_err() {
        // Another node took this sequence number first; its head covers these chains.
        txn.rollback().await?;
        return Ok(None);
    }
    for chain in &moved {
        chains::Entity::update_many()
            .col_expr(chains::Column::SignedSeq, Expr::value(chain.last_seq))
            .filter(chains::Column::Chain.eq(chain.chain.clone()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Some(head.into()))
}

pub async fn latest_head(db: &impl ConnectionTrait) -> Result<Option<SignedHead>, DbErr> {
    Ok(heads::Entity::find()
        .order_by_desc(heads::Column::Seq)
        .one(db)
        .await?
        .map(SignedHead::from))
}

/// The signed head of sequence number `seq`, if any: public, as the latest is (a draw's public
/// input may name one).
pub async fn head_at(db: &impl ConnectionTrait, seq: i64) -> Result<Option<SignedHead>, DbErr> {
    Ok(heads::Entity::find_by_id(seq)
        .one(db)
        .await?
        .map(SignedHead::from))
}

/// A page of a chain as supervisors see it: entries withheld until a time still to come are left
/// out (docs/spec/visibility.md).
pub async fn visible_entries(
    db: &DatabaseConnection,
    chain: &str,
    now: DateTime<Utc>,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<Entry>, DbErr> {
    let txn = db.begin().await?;
    let mut visible = Vec::new();
    let mut after = after_seq;
    // Keep reading until the page is full or the chain ends: withheld entries leave holes.
    while (visible.len() as u64) < limit {
        let page = store::entries_after(&txn, chain, after, limit).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        visible.extend(
            page.into_iter()
                .filter(|e| e.withheld_until.is_none_or(|t| t <= now)),
        );
    }
    txn.commit().await?;
    visible.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(visible)
}
