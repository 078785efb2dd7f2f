//! The signed heads kept a second time in the document store (a system an attacker of the database
//! does not hold), written oldest first, and the checks `audit verify` makes against those copies
//! and against a head an outsider kept.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::digest_hex;
use super::service::{AuditReport, PAGE, SignedHead, sign_head, signature_verifies};
use super::store::heads;
use crate::error::{DomainError, DomainResult};
use crate::keys::PlatformSigner;
use crate::ports::DocumentStore;

/// The name a signed head is kept under in the document store.
pub fn head_record_name(seq: i64) -> String {
    format!("audit-heads/{seq:020}.json")
}

/// A signed head as kept in the document store: everything needed to check it alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeptHead {
    seq: i64,
    signed_at: DateTime<Utc>,
    body: String,
    digest: String,
    key_id: String,
    signature: String,
}

impl From<heads::Model> for KeptHead {
    fn from(h: heads::Model) -> Self {
        Self {
            seq: h.seq,
            signed_at: h.signed_at,
            body: h.body,
            digest: h.digest,
            key_id: h.key_id,
            signature: h.signature,
        }
    }
}

/// Every head kept in the document store (read from 1 up to the first gap) must be in the database,
/// the same: a head deleted or replaced there is named.
pub(super) async fn verify_kept_copies(
    db: &impl ConnectionTrait,
    live: &DatabaseConnection,
    platform_keys: &HashMap<String, Vec<u8>>,
    documents: &dyn DocumentStore,
    report: &mut AuditReport,
) -> Result<(), DbErr> {
    let mut seq = 1;
    loop {
        let name = head_record_name(seq);
        let bytes = match documents.get_record(&name).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(()),
            Err(e) => {
                report.breaks.push(format!(
                    "the document store's copy of signed head {seq} cannot be read: {e}"
                ));
                return Ok(());
            }
        };
        let kept: KeptHead = match serde_json::from_slice(&bytes) {
            Ok(kept) => kept,
            Err(e) => {
                report.breaks.push(format!(
                    "the document store's copy of signed head {seq} is unreadable ({e})"
                ));
                return Ok(());
            }
        };
        let genuine = kept.seq == seq
            && digest_hex(&kept.body) == kept.digest
            && signature_verifies(platform_keys, &kept.key_id, &kept.digest, &kept.signature);
        if genuine {
            // A head signed while this verification runs is in the store but not in its
            // snapshot: the database is asked again, outside it, before calling it deleted.
            let head = match heads::Entity::find_by_id(seq).one(db).await? {
                Some(head) => Some(head),
                None => heads::Entity::find_by_id(seq).one(live).await?,
            };
            match head {
                Some(head) if head.digest == kept.digest => {}
                Some(_) => report.breaks.push(format!(
                    "signed head {seq}: the database's differs from the copy kept in the document store"
                )),
                None => report.breaks.push(format!(
                    "signed head {seq}: kept in the document store but deleted from the database"
                )),
            }
        } else {
            report.breaks.push(format!(
                "the document store's copy of signed head {seq} is not a head the platform signed"
            ));
        }
        seq += 1;
    }
}

/// A head an outsider kept (the answer of `GET /api/v1/audit/heads/latest`): if the platform
/// signed it, the database must still hold it unchanged, and with it every entry it covers.
pub(super) async fn verify_outsiders_head(
    db: &impl ConnectionTrait,
    platform_keys: &HashMap<String, Vec<u8>>,
    kept: &SignedHead,
    report: &mut AuditReport,
) -> Result<(), DbErr> {
    let seq = kept.seq;
    if !signature_verifies(platform_keys, &kept.key_id, &kept.digest, &kept.signature) {
        report.breaks.push(format!(
            "the kept head {seq} does not carry the platform's signature: it proves nothing"
        ));
        return Ok(());
    }
    match heads::Entity::find_by_id(seq).one(db).await? {
        Some(head) if head.digest == kept.digest => {}
        Some(_) => report.breaks.push(format!(
            "signed head {seq}: the database's differs from the head you kept"
        )),
        None => report.breaks.push(format!(
            "signed head {seq}: you kept it, but it was deleted from the database"
        )),
    }
    Ok(())
}

/// Writes the signed heads the document store does not have yet: it finds the newest head the
/// store has (looking down from the newest signed), then writes the ones after it oldest first, so
/// the store always holds heads 1 to some n without a gap, even after a write that failed halfway
/// (which [`verify_kept_copies`] relies on). Idempotent; the head job runs it at every tick.
pub async fn publish_heads(
    db: &DatabaseConnection,
    documents: &dyn DocumentStore,
) -> DomainResult<usize> {
    let mut missing = Vec::new();
    let mut before = i64::MAX;
    'find: loop {
        let page = heads::Entity::find()
            .filter(heads::Column::Seq.lt(before))
            .order_by_desc(heads::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        before = last.seq;
        for head in page {
            let name = head_record_name(head.seq);
            if documents
                .get_record(&name)
                .await
                .map_err(DomainError::internal)?
                .is_some()
            {
                break 'find;
            }
            missing.push(head.seq);
        }
    }
    let written = missing.len();
    for seq in missing.into_iter().rev() {
        let Some(head) = heads::Entity::find_by_id(seq).one(db).await? else {
            continue;
        };
        let bytes = serde_json::to_vec(&KeptHead::from(head)).map_err(DomainError::internal)?;
        documents
            .put_record(&head_record_name(seq), bytes)
            .await
            .map_err(DomainError::internal)?;
    }
    Ok(written)
}

/// Signs a head ([`sign_head`]) and keeps it in the document store too. The head is committed
/// first: a store that fails is reported as an error, and the next [`publish_heads`] writes it.
pub async fn sign_and_publish_head(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    documents: &dyn DocumentStore,
    now: DateTime<Utc>,
) -> DomainResult<Option<SignedHead>> {
    let head = sign_head(db, signer, now).await?;
    publish_heads(db, documents).await?;
    Ok(head)
}
