//! A round's opening at its deadline (docs/spec/evaluation.md "Final quotes"): what is due, the
//! key unwrapped and audited, and the signed record with its consequences, in one transaction.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tenderhall_model::bid::Outcome;

use super::{bidders_of, record_of, wrap_context};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::evaluation::store::{quote_rounds, round_quotes};
use crate::id::{LotId, TenderId};
use crate::keys::{MasterKey, PlatformSigner, key_id};
use crate::store::begin_write;

/// A quote to open.
#[derive(Debug, Clone)]
pub struct QuoteToOpen {
    pub quote: round_quotes::Model,
    /// The signing key the envelope names, revoked or not.
    pub signer_key: Option<Vec<u8>>,
}

/// A round due for opening.
#[derive(Debug, Clone)]
pub struct RoundOpening {
    pub round: quote_rounds::Model,
    pub tender_id: TenderId,
    pub lot_id: LotId,
    pub opening_fields: Vec<String>,
    pub quotes: Vec<QuoteToOpen>,
}

/// The round when its opening is due and not yet recorded; `None` otherwise.
pub async fn due(
    db: &DatabaseConnection,
    round_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<Option<RoundOpening>> {
    let Some(round) = quote_rounds::Entity::find_by_id(round_id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if round.record.is_some() || now < round.deadline {
        return Ok(None);
    }
    let tender = crate::tender::store::queries::by_id(db, &round.tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let opening_fields: Vec<String> =
        serde_json::from_str(&tender.opening_fields).map_err(DomainError::internal)?;
    let rows = round_quotes::Entity::find()
        .filter(round_quotes::Column::RoundId.eq(round.id.as_str()))
        .order_by_asc(round_quotes::Column::ReceivedAt)
        .all(db)
        .await?;
    let keys =
        crate::keys::store::queries::by_ids(db, rows.iter().map(|q| q.signer_key_id.clone()))
            .await?;
    let quotes = rows
        .into_iter()
        .map(|quote| {
            // The key must be the bidder's own, revoked or not (as for a bid).
            let signer_key = keys
                .get(&quote.signer_key_id)
                .filter(|k| k.organization_id == quote.organization_id)
                .and_then(|k| STANDARD.decode(&k.public_key).ok());
            QuoteToOpen { quote, signer_key }
        })
        .collect();
    Ok(Some(RoundOpening {
        tender_id: TenderId::parse(&round.tender_id)?,
        lot_id: LotId::parse(&round.lot_id)?,
        opening_fields,
        quotes,
        round,
    }))
}

/// The round's secret, unwrapped at or after its deadline in its own audited transaction.
pub async fn unwrap_key(
    db: &DatabaseConnection,
    master: &MasterKey,
    opening: &RoundOpening,
    now: DateTime<Utc>,
) -> DomainResult<[u8; 32]> {
    let round = &opening.round;
    if now < round.deadline {
        return Err(DomainError::Refused {
            code: ErrorCode::NotOpened,
            message: Text::new(
                "A round's key stays sealed until its deadline.",
                "报价截止时间之前，报价密钥不得解封。",
            ),
        });
    }
    let secret = master
        .unwrap(
            &round.wrapped_secret,
            &wrap_context(&round.tender_id, &round.lot_id, round.number),
        )
        .map_err(DomainError::internal)?;
    let secret: [u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| DomainError::internal("a round key is not 32 bytes"))?;
    if crate::bid::hpke::public_of(&secret)
        .map(|p| key_id(&p))
        .as_deref()
        != Some(round.key_id.as_str())
    {
        return Err(DomainError::internal(
            "a round key does not match its public key",
        ));
    }
    let txn = begin_write(db).await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&round.tender_id),
            &Actor::system(),
            "round.key_unwrap",
            format!("round:{}", round.id),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// Writes the round's signed record in one transaction with its audit entry and the notices: one
/// line per bidder called, opened with its fields, or out with the reason. A record already
/// there is returned as it is.
pub async fn record(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    opening: &RoundOpening,
    outcomes: &HashMap<String, Outcome>,
    rate: rust_decimal::Decimal,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let txn = begin_write(db).await?;
    let tender_row = crate::tender::store::queries::lock(&txn, opening.tender_id.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let round = quote_rounds::Entity::find_by_id(opening.round.id.clone())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if let Some(existing) = record_of(&round) {
        txn.rollback().await?;
        return Ok(existing);
    }
    // A quote receipted just before the deadline may have committed after `due` read the quotes:
    // under the lock they are all in; if any differs, this run stops and the job opens again.
    let mut now_in: Vec<(String, String)> = round_quotes::Entity::find()
        .filter(round_quotes::Column::RoundId.eq(round.id.as_str()))
        .all(&txn)
        .await?
        .into_iter()
        .map(|q| (q.organization_id, q.envelope_sha256))
        .collect();
    let mut read: Vec<(String, String)> = opening
        .quotes
        .iter()
        .map(|q| {
            (
                q.quote.organization_id.clone(),
                q.quote.envelope_sha256.clone(),
            )
        })
        .collect();
    now_in.sort();
    read.sort();
    if now_in != read {
        txn.rollback().await?;
        return Err(DomainError::internal(
            "a quote was receipted while the round was being opened: opening again",
        ));
    }
    let called = bidders_of(&round);
    let mut lines = Vec::new();
    for org in &called {
        let quote = opening
            .quotes
            .iter()
            .find(|q| q.quote.organization_id == *org);
        let mut line = json!({"bidder_id": org});
        match (quote, outcomes.get(org)) {
            (Some(q), Some(outcome)) => {
                line["envelope_sha256"] = json!(q.quote.envelope_sha256);
                line["received_at"] = json!(crate::time::rfc3339(q.quote.received_at));
                line["status"] = json!(outcome.status());
                match outcome {
                    Outcome::Opened {
                        fields,
                        plaintext_sha256,
                    } => {
                        line["fields"] = json!(fields);
                        line["plaintext_sha256"] = json!(plaintext_sha256);
                    }
                    Outcome::Revoked(r) | Outcome::Withdrawn(r) => line["reason"] = json!(r),
                }
            }
            _ => {
                line["status"] = json!("no_quote");
                line["reason"] = json!("no final quote by the deadline: out of the procedure");
            }
        }
        lines.push(line);
    }
    let mut record = json!({
        "tender": round.tender_id,
        "lot": round.lot_id,
        "round": round.number,
        "deadline": crate::time::rfc3339(round.deadline),
        "recipient": round.key_id,
        "quotes": lines,
        "opened_at": crate::time::rfc3339(now),
        "platform_key": signer.key_id(),
    });
    let signature = signer.sign(to_canonical_string(&record).as_bytes());
    record["signature"] = Value::String(signature);
    quote_rounds::Entity::update(quote_rounds::ActiveModel {
        id: Set(round.id.clone()),
        record: Set(Some(to_canonical_string(&record))),
        opened_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let object = format!("round:{}", round.id);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&round.tender_id),
            &Actor::system(),
            "round.open",
            object.clone(),
        )
        .details(json!({"round": round.number, "quotes": record["quotes"]})),
        now,
    )
    .await?;
    let message = crate::notify::round_opened(
        &tender_row.title,
        &round.tender_id,
        &round.lot_id,
        round.number,
    );
    for org in &called {
        crate::notify::service::notify_organization(
            &txn,
            org,
            "round.opened",
            Some(object.clone()),
            &message,
            true,
            now,
        )
        .await?;
    }
    // Too few left with a quote (政府采购非招标采购方式管理办法 Art 27: at least three): the lot
    // fails in this transaction.
    super::super::room::fail::after_review(&txn, &opening.tender_id, &opening.lot_id, rate, now)
        .await?;
    txn.commit().await?;
    Ok(record)
}
