//! Final-quote rounds of a negotiation or inquiry (最后报价; docs/spec/evaluation.md "Final
//! quotes"). Once the review has concluded, a member of the panel calls on the bidders still in
//! for a final quote by a deadline it sets (政府采购非招标采购方式管理办法 Art 32, 45). Each
//! round has its own X25519 opening key, made when it is called, its secret sealed under the
//! master key until the round's deadline. The bidders seal their quotes in the envelope of
//! docs/spec/envelope.md to that key and get a signed receipt; at the deadline the chronograph
//! opens every quote together and the platform signs the round's record, like an opening. A
//! bidder that sends no quote, or one that does not open, is out, and a lot left with fewer
//! bidders than it needs fails. The ranking then takes the last round's prices, and the report
//! carries every round's record. The opening is in `open`.

mod open;

pub use open::{QuoteToOpen, RoundOpening, due, record, unwrap_key};

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ring::rand::SystemRandom;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use super::super::store::{
    evaluation_report_signatures, evaluation_reports, quote_rounds, round_quotes,
};
use super::room::{Phase, Viewer, load};
use crate::account::{OrganizationKind, Principal};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::bid::envelope::Checked;
use crate::bid::submission::{Intake, Receipt, deadline_passed};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{LotId, TenderId};
use crate::jobs::NewJob;
use crate::keys::{MasterKey, PlatformSigner, key_id};
use crate::ports::StoredObject;
use crate::store::begin_write;
use crate::tender::procedure::Procedure;
use crate::tender::scaled_days;
use crate::time::Clock;

/// The chronograph's job at a round's deadline.
pub const ROUND_OPEN_JOB: &str = "round.open";
/// The longest a round may run, in days (÷ the tender's accelerator).
pub const MAX_ROUND_DAYS: i64 = 5;

/// What the master key wrap of a round's secret is bound to.
fn wrap_context(tender: &str, lot: &str, number: i32) -> String {
    format!("tenderhall/round-key/v1|{tender}|{lot}|{number}")
}

fn wrong_phase(en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::Refused {
        code: ErrorCode::WrongPhase,
        message: Text::new(en, zh),
    }
}

/// The rounds of a lot, by number.
pub(crate) async fn of_lot(
    db: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
) -> DomainResult<Vec<quote_rounds::Model>> {
    Ok(quote_rounds::Entity::find()
        .filter(quote_rounds::Column::TenderId.eq(tender_id))
        .filter(quote_rounds::Column::LotId.eq(lot_id))
        .order_by_asc(quote_rounds::Column::Number)
        .all(db)
        .await?)
}

fn bidders_of(round: &quote_rounds::Model) -> Vec<String> {
    serde_json::from_str(&round.bidders).unwrap_or_default()
}

/// The opened record of a round, if any.
pub(crate) fn record_of(round: &quote_rounds::Model) -> Option<Value> {
    round
        .record
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
}

/// A member of the panel calls a round of final quotes from the bidders still in.
#[allow(clippy::too_many_arguments)]
pub async fn call(
    db: &DatabaseConnection,
    master: &MasterKey,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    deadline: DateTime<Utc>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let txn = begin_write(db).await?;
    let tender_row = crate::tender::store::queries::lock(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let room = load(&txn, tender, lot)
        .await?
        .ok_or(DomainError::NotFound)?;
    let Some(Viewer::Member(expert)) = room.viewer(principal) else {
        return Err(DomainError::NotFound);
    };
    if !matches!(
        tender_row.procedure.parse::<Procedure>(),
        Ok(Procedure::CompetitiveNegotiation | Procedure::Inquiry)
    ) {
        return Err(DomainError::Invalid {
            code: ErrorCode::ProcedureMismatch,
            field: None,
            message: Text::new(
                "Final quotes are called in a competitive negotiation or an inquiry only.",
                "仅竞争性谈判和询价采购可要求供应商提交最后报价。",
            ),
        });
    }
    let Some(still_in) = room
        .valid_bidders()
        .filter(|_| matches!(room.phase(), Phase::Scores | Phase::Flags | Phase::Scored))
    else {
        return Err(wrong_phase(
            "Final quotes come after the review has concluded, on a lot that has not failed.",
            "最后报价应在资格和符合性审查结束后、且标段未失败时提出。",
        ));
    };
    if room.rounds.iter().any(|r| r.record.is_none()) {
        return Err(wrong_phase(
            "A round of final quotes is still running.",
            "仍有一轮最后报价尚未开启。",
        ));
    }
    // Once a member has signed the report, a round would change what is signed under it.
    let reported = evaluation_reports::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(&txn)
        .await?
        .is_some()
        || evaluation_report_signatures::Entity::find()
            .filter(evaluation_report_signatures::Column::TenderId.eq(tender.as_str()))
            .filter(evaluation_report_signatures::Column::LotId.eq(lot.as_str()))
            .one(&txn)
            .await?
            .is_some();
    if reported || still_in.is_empty() {
        return Err(wrong_phase(
            "Signing of the report has begun, or nobody is still in: no round can be called.",
            "评审报告已开始签署或已无有效供应商，不能再要求报价。",
        ));
    }
    let accelerator = u32::try_from(tender_row.accelerator).unwrap_or(1);
    if deadline <= now || deadline > now + scaled_days(MAX_ROUND_DAYS, accelerator) {
        return Err(DomainError::invalid(
            "deadline",
            format!("The round's deadline is after now and at most {MAX_ROUND_DAYS} days away."),
            format!("报价截止时间须晚于当前时间，且不超过 {MAX_ROUND_DAYS} 日。"),
        ));
    }
    let number = i32::try_from(room.rounds.len() + 1).unwrap_or(i32::MAX);
    let (secret, public) =
        crate::bid::hpke::opening_keypair(&SystemRandom::new()).map_err(DomainError::internal)?;
    let wrapped = master
        .wrap(
            &secret,
            &wrap_context(tender.as_str(), lot.as_str(), number),
        )
        .map_err(DomainError::internal)?;
    let id = format!("rnd_{}", uuid::Uuid::now_v7().simple());
    quote_rounds::Entity::insert(quote_rounds::ActiveModel {
        id: Set(id.clone()),
        tender_id: Set(tender.to_string()),
        lot_id: Set(lot.to_string()),
        number: Set(number),
        bidders: Set(serde_json::to_string(&still_in).map_err(DomainError::internal)?),
        deadline: Set(deadline),
        key_id: Set(key_id(&public)),
        public_key: Set(STANDARD.encode(public)),
        wrapped_secret: Set(wrapped),
        called_by: Set(expert.clone()),
        called_at: Set(now),
        record: Set(None),
        opened_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let object = format!("round:{id}");
    audit::append(
        &txn,
        NewEntry::new(Chain::tender(tender.as_str()), &Actor::account(principal.account_id.as_str(), ip), "round.call", object.clone())
            .details(json!({"lot": lot.as_str(), "round": number, "bidders": still_in, "deadline": crate::time::rfc3339(deadline), "key_id": key_id(&public)})),
        now,
    )
    .await?;
    crate::jobs::service::enqueue(
        &txn,
        NewJob::new(
            ROUND_OPEN_JOB,
            json!({"round_id": id}),
            deadline,
            format!("{ROUND_OPEN_JOB}:{id}"),
        ),
        now,
    )
    .await?;
    let message = crate::notify::round_called(
        &tender_row.title,
        tender.as_str(),
        lot.as_str(),
        number,
        &crate::time::rfc3339(deadline),
    );
    for org in &still_in {
        crate::notify::service::notify_organization(
            &txn,
            org,
            "round.called",
            Some(object.clone()),
            &message,
            true,
            now,
        )
        .await?;
    }
    let saved = quote_rounds::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(shown(&saved, true))
}

fn shown(round: &quote_rounds::Model, with_bidders: bool) -> Value {
    json!({
        "tender_id": round.tender_id,
        "lot_id": round.lot_id,
        "round": round.number,
        "deadline": crate::time::rfc3339(round.deadline),
        "recipient": round.key_id,
        "public_key": round.public_key,
        "bidders": if with_bidders { Value::from(bidders_of(round)) } else { Value::Null },
        "status": if round.record.is_some() { "opened" } else { "open" },
        "record": record_of(round),
    })
}

async fn round_by_number(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
    number: i32,
) -> DomainResult<quote_rounds::Model> {
    quote_rounds::Entity::find()
        .filter(quote_rounds::Column::TenderId.eq(tender.as_str()))
        .filter(quote_rounds::Column::LotId.eq(lot.as_str()))
        .filter(quote_rounds::Column::Number.eq(number))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)
}

/// A round as the panel, supervisors and the bidders called to it see it (404 to anyone else):
/// the key to seal to and the deadline; once opened, the signed record.
pub async fn view(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    number: i32,
) -> DomainResult<Value> {
    let round = round_by_number(db, tender, lot, number).await?;
    let panel = match load(db, tender, lot).await? {
        Some(room) => room.viewer(principal).is_some(),
        None => false,
    };
    let called = bidders_of(&round)
        .iter()
        .any(|org| principal.is_member_of(org));
    if !panel && !called {
        return Err(DomainError::NotFound);
    }
    Ok(shown(&round, panel))
}

/// Everything checked before a quote's upload is read: a bidder called to the round, before its
/// deadline; the envelope must be sealed to the round's key.
pub async fn prepare(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    number: i32,
    now: DateTime<Utc>,
) -> DomainResult<Intake> {
    let membership = principal.require_kind(&[OrganizationKind::Bidder])?;
    let organization_id = membership.organization_id.to_string();
    let round = round_by_number(db, tender, lot, number).await?;
    if !bidders_of(&round).contains(&organization_id) {
        return Err(DomainError::NotFound);
    }
    if now >= round.deadline || round.record.is_some() {
        return Err(deadline_passed());
    }
    let mut signers = HashMap::new();
    for key in crate::keys::store::queries::unrevoked_of(db, &organization_id).await? {
        if let Ok(raw) = STANDARD.decode(&key.public_key) {
            signers.insert(key.key_id, raw);
        }
    }
    Ok(Intake {
        tender_id: tender.to_string(),
        lot_id: lot.to_string(),
        organization_id,
        account_id: principal.account_id.to_string(),
        recipient: round.key_id,
        signers,
        deadline: round.deadline,
    })
}

/// Records a checked, durably stored quote as the bidder's current one in the round and signs its
/// receipt, in one transaction with its audit entry (kept from the others until the deadline).
#[allow(clippy::too_many_arguments)]
pub async fn record_quote(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    intake: &Intake,
    number: i32,
    checked: &Checked,
    stored: &StoredObject,
    ip: Option<String>,
    clock: &dyn Clock,
) -> DomainResult<Receipt> {
    if stored.sha256 != checked.sha256 || stored.size != checked.size {
        return Err(DomainError::internal(
            "the stored envelope differs from the checked one",
        ));
    }
    let txn = begin_write(db).await?;
    crate::tender::store::queries::lock(&txn, &intake.tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let now = clock.now();
    let (tender, lot) = (
        TenderId::parse(&intake.tender_id)?,
        LotId::parse(&intake.lot_id)?,
    );
    let round = round_by_number(&txn, &tender, &lot, number).await?;
    if now >= round.deadline || round.record.is_some() {
        return Err(deadline_passed());
    }
    let previous =
        round_quotes::Entity::find_by_id((round.id.clone(), intake.organization_id.clone()))
            .one(&txn)
            .await?;
    let seq = previous.as_ref().map_or(1, |p| p.seq + 1);
    let receipt = Receipt {
        tender: intake.tender_id.clone(),
        lot: intake.lot_id.clone(),
        bidder: intake.organization_id.clone(),
        round: Some(number),
        envelope_sha256: checked.sha256.clone(),
        size: Some(checked.size),
        received_at: Some(crate::time::rfc3339(now)),
        withdrawn_at: None,
        seq,
        platform_key: String::new(),
        signature: String::new(),
    }
    .signed(signer)?;
    let row = round_quotes::ActiveModel {
        round_id: Set(round.id.clone()),
        organization_id: Set(intake.organization_id.clone()),
        envelope_sha256: Set(checked.sha256.clone()),
        size: Set(i64::try_from(checked.size).map_err(DomainError::internal)?),
        signer_key_id: Set(checked.header.signer.clone()),
        received_at: Set(now),
        seq: Set(seq),
        receipt: Set(receipt.to_json()?),
    };
    if previous.is_some() {
        round_quotes::Entity::update(row).exec(&txn).await?;
    } else {
        round_quotes::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
    }
    let mut entry = NewEntry::new(
        Chain::tender_sealed(&intake.tender_id),
        &Actor::account(&intake.account_id, ip),
        "round.quote",
        format!("round:{}", round.id),
    )
    .details(json!({
        "organization_id": intake.organization_id,
        "seq": seq,
        "envelope_sha256": checked.sha256,
    }));
    entry.withheld_until = Some(round.deadline);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(receipt)
}
