//! Opening keys (docs/spec/envelope.md "Keys"): one X25519 pair per lot, made when the tender is
//! published. The public half is published with the lot; the private half exists only wrapped
//! under the master key (AES-256-GCM, bound to its tender and lot) until the deadline, and every
//! unwrap is an audit event.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;

use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{LotId, TenderId};
use crate::keys::{MasterKey, key_id};

use super::super::store::opening_keys;

/// What the master key wrap is bound to: a wrapped secret moved to another lot does not unwrap.
fn wrap_context(tender_id: &str, lot_id: &str) -> String {
    format!("tenderhall/opening-key/v1|{tender_id}|{lot_id}")
}

/// Makes the opening key pair of every lot inside the publication's transaction.
pub async fn create_opening_keys(
    txn: &impl ConnectionTrait,
    master: &MasterKey,
    tender_id: &str,
    lot_ids: &[String],
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let rng = SystemRandom::new();
    for lot_id in lot_ids {
        let (secret, public) =
            crate::bid::hpke::opening_keypair(&rng).map_err(DomainError::internal)?;
        let wrapped = master
            .wrap(&secret, &wrap_context(tender_id, lot_id))
            .map_err(DomainError::internal)?;
        let public_key = STANDARD.encode(public);
        opening_keys::Entity::insert(opening_keys::ActiveModel {
            tender_id: Set(tender_id.to_owned()),
            lot_id: Set(lot_id.clone()),
            key_id: Set(key_id(&public)),
            public_key: Set(public_key.clone()),
            wrapped_secret: Set(wrapped),
            created_at: Set(now),
            unwrapped_at: Set(None),
        })
        .exec_without_returning(txn)
        .await?;
        crate::tender::store::queries::set_opening_key(txn, tender_id, lot_id, &public_key).await?;
    }
    Ok(())
}

/// The lot's opening private key, unwrapped: refused before `deadline` (server time), and recorded
/// on the tender's audit chain every time.
pub async fn unwrap_opening_key(
    txn: &impl ConnectionTrait,
    master: &MasterKey,
    tender: &TenderId,
    lot: &LotId,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<[u8; 32]> {
    let (tender_id, lot_id) = (tender.as_str(), lot.as_str());
    if now < deadline {
        return Err(DomainError::Refused {
            code: ErrorCode::NotOpened,
            message: Text::new(
                "The opening key stays sealed until the bid deadline.",
                "投标截止时间之前，开标密钥不得解封。",
            ),
        });
    }
    let row = opening_keys::Entity::find_by_id((tender_id.to_owned(), lot_id.to_owned()))
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let secret = master
        .unwrap(&row.wrapped_secret, &wrap_context(tender_id, lot_id))
        .map_err(DomainError::internal)?;
    let secret: [u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| DomainError::internal("an opening key is not 32 bytes"))?;
    if crate::bid::hpke::public_of(&secret)
        .map(|p| key_id(&p))
        .as_deref()
        != Some(row.key_id.as_str())
    {
        return Err(DomainError::internal(
            "an opening key does not match its public key",
        ));
    }
    if row.unwrapped_at.is_none() {
        opening_keys::Entity::update(opening_keys::ActiveModel {
            tender_id: Set(row.tender_id.clone()),
            lot_id: Set(row.lot_id.clone()),
            unwrapped_at: Set(Some(now)),
            ..Default::default()
        })
        .exec(txn)
        .await?;
    }
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(tender_id),
            &Actor::system(),
            "opening_key.unwrap",
            format!("lot:{tender_id}/{lot_id}"),
        )
        .details(json!({"key_id": row.key_id})),
        now,
    )
    .await?;
    Ok(secret)
}
