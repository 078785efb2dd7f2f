//! K of the mean-base price formula (docs/spec/evaluation.md "K"): a secret per lot is committed
//! to when the tender is published (or when an amendment first brings a range), sealed under the
//! master key; at the opening, in the opening's own transaction, it is revealed with the public
//! input (the signed opening record's digest) and the value, in a record the platform signs and
//! everyone may read and re-check.

use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use tenderhall_model::evaluation::k::{self, KRange};

use super::super::store::price_k_draws;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::error::{DomainError, DomainResult};
use crate::id::{LotId, TenderId};
use crate::keys::{MasterKey, PlatformSigner};

/// What the master key wrap is bound to: a sealed secret moved to another lot does not unwrap.
fn wrap_context(tender_id: &str, lot_id: &str) -> String {
    format!("tenderhall/price-k/v1|{tender_id}|{lot_id}")
}

/// Commits to a fresh secret for each lot that has none yet, and sets every lot's range to
/// `range` (an amendment may change the range before the deadline; the commitment is to the
/// secret alone, so it stands).
pub async fn commit(
    txn: &impl ConnectionTrait,
    master: &MasterKey,
    tender_id: &str,
    lot_ids: &[String],
    range: KRange,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let rng = SystemRandom::new();
    let range_json = serde_json::to_string(&range).map_err(DomainError::internal)?;
    for lot_id in lot_ids {
        let existing = price_k_draws::Entity::find_by_id((tender_id.to_owned(), lot_id.clone()))
            .one(txn)
            .await?;
        if existing.is_some() {
            price_k_draws::Entity::update(price_k_draws::ActiveModel {
                tender_id: Set(tender_id.to_owned()),
                lot_id: Set(lot_id.clone()),
                k_range: Set(range_json.clone()),
                ..Default::default()
            })
            .exec(txn)
            .await?;
            continue;
        }
        let mut secret = [0u8; 32];
        rng.fill(&mut secret).map_err(DomainError::internal)?;
        price_k_draws::Entity::insert(price_k_draws::ActiveModel {
            tender_id: Set(tender_id.to_owned()),
            lot_id: Set(lot_id.clone()),
            commitment: Set(k::commitment(&secret)),
            secret_sealed: Set(master
                .wrap(&secret, &wrap_context(tender_id, lot_id))
                .map_err(DomainError::internal)?),
            k_range: Set(range_json.clone()),
            public_input: Set(None),
            k: Set(None),
            record: Set(None),
            created_at: Set(now),
            revealed_at: Set(None),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Drops the tender's commitments, before its deadline, when an amendment takes K away.
pub async fn withdraw(txn: &impl ConnectionTrait, tender_id: &str) -> DomainResult<()> {
    use sea_orm::{ColumnTrait, QueryFilter};
    price_k_draws::Entity::delete_many()
        .filter(price_k_draws::Column::TenderId.eq(tender_id))
        .filter(price_k_draws::Column::Record.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// Reveals the lot's K inside the opening's transaction, from the signed opening record's
/// canonical text; `None` when the lot has no K to draw. Idempotent: a revealed draw is returned.
pub async fn reveal(
    txn: &impl ConnectionTrait,
    master: &MasterKey,
    signer: &PlatformSigner,
    tender: &TenderId,
    lot: &LotId,
    signed_opening_record: &str,
    now: DateTime<Utc>,
) -> DomainResult<Option<Value>> {
    let (tender_id, lot_id) = (tender.as_str(), lot.as_str());
    let Some(row) = price_k_draws::Entity::find_by_id((tender_id.to_owned(), lot_id.to_owned()))
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    if let Some(record) = &row.record {
        return serde_json::from_str(record)
            .map(Some)
            .map_err(DomainError::internal);
    }
    let range: KRange = serde_json::from_str(&row.k_range).map_err(DomainError::internal)?;
    let secret = master
        .unwrap(&row.secret_sealed, &wrap_context(tender_id, lot_id))
        .map_err(DomainError::internal)?;
    if k::commitment(&secret) != row.commitment {
        return Err(DomainError::internal(
            "a K secret does not match its commitment",
        ));
    }
    let public_input = k::public_input(signed_opening_record);
    let value = range.pick(&secret, &public_input);
    let mut record = json!({
        "tender": tender_id,
        "lot": lot_id,
        "commitment": row.commitment,
        "public_input": public_input,
        "secret": hex::encode(&secret),
        "range": range,
        "k": value,
        "revealed_at": crate::time::rfc3339(now),
        "platform_key": signer.key_id(),
    });
    let signature = signer.sign(to_canonical_string(&record).as_bytes());
    record["signature"] = Value::String(signature);
    price_k_draws::Entity::update(price_k_draws::ActiveModel {
        tender_id: Set(tender_id.to_owned()),
        lot_id: Set(lot_id.to_owned()),
        public_input: Set(Some(public_input)),
        k: Set(Some(value.to_string())),
        record: Set(Some(to_canonical_string(&record))),
        revealed_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(tender_id),
            &Actor::system(),
            "lot.price_k",
            format!("lot:{tender_id}/{lot_id}"),
        )
        .details(json!({"k": value, "commitment": record["commitment"]})),
        now,
    )
    .await?;
    Ok(Some(record))
}

/// The lot's K as anyone may see it: before the opening the commitment and the range; after it
/// the signed record. `None` when the lot draws no K.
pub async fn published(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Option<Value>> {
    let Some(row) = price_k_draws::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if let Some(record) = row.record {
        return serde_json::from_str(&record)
            .map(Some)
            .map_err(DomainError::internal);
    }
    let range: Value = serde_json::from_str(&row.k_range).map_err(DomainError::internal)?;
    Ok(Some(json!({
        "tender": row.tender_id,
        "lot": row.lot_id,
        "commitment": row.commitment,
        "public_input": null,
        "secret": null,
        "range": range,
        "k": null,
        "revealed_at": null,
    })))
}
