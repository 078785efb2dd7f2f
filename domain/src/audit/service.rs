//! Audit use cases: sign a head, verify everything, read a tender's log.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::store::{self, chains, heads};
use super::{ChainTip, ChainVerifier, Entry, HeadBody, digest_hex, head_signing_message};
use crate::error::DomainResult;
use crate::keys::{PlatformSigner, verify_ed25519};
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

const PAGE: u64 = 1000;

/// Recomputes every chain and every signed head. `platform_keys` maps key ids to raw Ed25519
/// public keys. Reads page by page, so memory stays flat however long the log.
pub async fn verify_all(
    db: &DatabaseConnection,
    platform_keys: &HashMap<String, Vec<u8>>,
) -> Result<AuditReport, DbErr> {
    let mut report = AuditReport::default();
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
            }
            None => report
                .breaks
                .push(format!("chain `{chain}`: its tip record was deleted")),
        }
    }
    verify_heads(db, platform_keys, &mut report).await?;
    Ok(report)
}

async fn verify_heads(
    db: &DatabaseConnection,
    platform_keys: &HashMap<String, Vec<u8>>,
    report: &mut AuditReport,
) -> Result<(), DbErr> {
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
            return Ok(());
        }
        for head in page {
            report.heads += 1;
            let name = format!("signed head {}", head.seq);
            if head.seq != expected_seq {
                report
                    .breaks
                    .push(format!("signed head {expected_seq} is missing"));
                return Ok(());
            }
            if digest_hex(&head.body) != head.digest {
                report
                    .breaks
                    .push(format!("{name}: its body was changed after it was signed"));
                return Ok(());
            }
            let signed = platform_keys.get(&head.key_id).is_some_and(|key| {
                verify_ed25519(key, &head_signing_message(&head.digest), &head.signature)
            });
            if !signed {
                report
                    .breaks
                    .push(format!("{name}: the platform signature does not verify"));
                return Ok(());
            }
            let body: HeadBody = match serde_json::from_str(&head.body) {
                Ok(body) => body,
                Err(e) => {
                    report.breaks.push(format!("{name}: unreadable body ({e})"));
                    return Ok(());
                }
            };
            if body.seq != head.seq || body.prev_digest != prev_digest {
                report
                    .breaks
                    .push(format!("{name}: it does not follow the head before it"));
                return Ok(());
            }
            for tip in &body.chains {
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

/// A published head: what outsiders keep to detect a rewritten history later.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A page of a chain as supervisors see it: entries withheld until a time still to come are left
/// out (API.md "Who sees what").
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
