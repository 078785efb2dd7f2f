//! Written clarifications (澄清, 87号令 Art 51; docs/spec/evaluation.md "Clarifications"): a
//! member asks a bidder a question through the platform with a deadline; the bidder answers in
//! writing before it. A member who finds a price abnormally low asks the bidder to explain it
//! (87号令 Art 60): while the question is open the review cannot conclude, and a bidder that lets
//! the deadline pass unanswered has its bid invalid. The report waits for every open question and
//! carries them all. Nobody but the committee, supervisors and the bidder asked sees them.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::{Phase, Room, Viewer, load};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::evaluation::store::{clarifications, evaluation_reports};
use crate::id::{LotId, TenderId};
use crate::jobs::NewJob;
use crate::store::begin_write;
use crate::tender::scaled_days;

/// The chronograph's job at a clarification's deadline.
pub const CLARIFICATION_DUE_JOB: &str = "clarification.due";
/// The longest a bidder may be given to answer, in days (÷ the tender's accelerator): an
/// evaluation does not wait on a bidder for longer.
pub const MAX_ANSWER_DAYS: i64 = 5;

/// A member's question.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub bidder_id: String,
    pub question: String,
    /// The bidder must explain an abnormally low price (87号令 Art 60).
    #[serde(default)]
    pub abnormally_low: bool,
    /// RFC 3339.
    pub answer_by: DateTime<Utc>,
}

pub(super) async fn of_lot(
    db: &impl ConnectionTrait,
    tender_id: &str,
    lot_id: &str,
) -> DomainResult<Vec<clarifications::Model>> {
    let mut all = clarifications::Entity::find()
        .filter(clarifications::Column::TenderId.eq(tender_id))
        .filter(clarifications::Column::LotId.eq(lot_id))
        .all(db)
        .await?;
    all.sort_by(|a, b| (a.raised_at, &a.id).cmp(&(b.raised_at, &b.id)));
    Ok(all)
}

/// Neither answered nor lapsed.
pub(super) fn is_open(c: &clarifications::Model) -> bool {
    c.answer.is_none() && c.lapsed_at.is_none()
}

/// As the room, the report and the bidder asked show it.
pub(crate) fn shown(c: &clarifications::Model) -> Value {
    json!({
        "clarification_id": c.id,
        "bidder_id": c.bidder_id,
        "expert_id": c.expert_id,
        "question": c.question,
        "abnormally_low": c.abnormally_low,
        "raised_at": crate::time::rfc3339(c.raised_at),
        "answer_by": crate::time::rfc3339(c.answer_due),
        "answer": c.answer,
        "answered_at": c.answered_at.map(crate::time::rfc3339),
        "lapsed": c.lapsed_at.is_some(),
    })
}

/// As the bidder asked sees it: without the member who asked (the committee stays secret).
fn shown_to_bidder(c: &clarifications::Model) -> Value {
    let mut v = shown(c);
    if let Some(o) = v.as_object_mut() {
        o.remove("expert_id");
    }
    v
}

fn invalid(field: &str, en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::invalid(field, en, zh)
}

fn wrong_phase(room: &Room, en: &str, zh: &str) -> DomainError {
    DomainError::Refused {
        code: ErrorCode::WrongPhase,
        message: Text::new(
            format!(
                "The evaluation is in its `{}` phase: {en}",
                room.phase().as_str()
            ),
            format!("评标目前处于 `{}` 阶段：{zh}", room.phase().as_str()),
        ),
    }
}

/// A seated member asks a bidder of the lot a written question with a deadline.
pub async fn ask(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    q: Question,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let question = q.question.trim();
    if question.is_empty() || question.chars().count() > 20_000 {
        return Err(invalid(
            "question",
            "A question is 1 to 20,000 characters.",
            "澄清问题须为 1 至 20,000 字。",
        ));
    }
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
    if !room.bids.iter().any(|b| b.bidder_id == q.bidder_id) {
        return Err(invalid(
            "bidder_id",
            "Questions go to a bidder whose bid was opened in this lot.",
            "澄清只能向本标段已开启投标文件的投标人提出。",
        ));
    }
    match (room.phase(), q.abnormally_low) {
        (Phase::Review, _) | (Phase::Scores, false) => {}
        (Phase::Scores, true) => {
            return Err(wrong_phase(
                &room,
                "an abnormally low price is raised during the review, which has concluded.",
                "报价明显偏低的澄清应在符合性审查阶段提出，审查已结束。",
            ));
        }
        _ => {
            return Err(wrong_phase(
                &room,
                "questions are asked before every member has scored.",
                "澄清应在全体成员评分完成前提出。",
            ));
        }
    }
    let accelerator = u32::try_from(tender_row.accelerator).unwrap_or(1);
    if q.answer_by <= now || q.answer_by > now + scaled_days(MAX_ANSWER_DAYS, accelerator) {
        return Err(invalid(
            "answer_by",
            format!("The deadline to answer is after now and at most {MAX_ANSWER_DAYS} days away."),
            format!("答复期限须晚于当前时间，且不超过 {MAX_ANSWER_DAYS} 日。"),
        ));
    }
    let id = format!("clr_{}", uuid::Uuid::now_v7().simple());
    clarifications::Entity::insert(clarifications::ActiveModel {
        id: Set(id.clone()),
        tender_id: Set(tender.to_string()),
        lot_id: Set(lot.to_string()),
        bidder_id: Set(q.bidder_id.clone()),
        expert_id: Set(expert.clone()),
        question: Set(question.to_owned()),
        abnormally_low: Set(q.abnormally_low),
        raised_at: Set(now),
        answer_due: Set(q.answer_by),
        answer: Set(None),
        answered_by: Set(None),
        answered_at: Set(None),
        lapsed_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let object = format!("clarification:{id}");
    audit::append(
        &txn,
        NewEntry::new(Chain::tender(tender.as_str()), &Actor::account(principal.account_id.as_str(), ip), "clarification.ask", object.clone())
            .details(json!({"lot": lot.as_str(), "bidder_id": q.bidder_id, "expert_id": expert, "abnormally_low": q.abnormally_low, "answer_by": crate::time::rfc3339(q.answer_by)})),
        now,
    )
    .await?;
    crate::jobs::service::enqueue(
        &txn,
        NewJob::new(
            CLARIFICATION_DUE_JOB,
            json!({"clarification_id": id}),
            q.answer_by,
            format!("{CLARIFICATION_DUE_JOB}:{id}"),
        ),
        now,
    )
    .await?;
    let message = crate::notify::clarification_asked(
        &tender_row.title,
        tender.as_str(),
        lot.as_str(),
        &crate::time::rfc3339(q.answer_by),
        q.abnormally_low,
    );
    crate::notify::service::notify_organization(
        &txn,
        &q.bidder_id,
        "clarification.asked",
        Some(object),
        &message,
        true,
        now,
    )
    .await?;
    let saved = clarifications::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(shown(&saved))
}

/// The clarifications a bidder was asked in a lot (its own only; 404 for a stranger to the lot).
pub async fn asked_of(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Value> {
    let Some(org) = principal
        .membership
        .as_ref()
        .map(|m| m.organization_id.to_string())
    else {
        return Err(DomainError::NotFound);
    };
    let mine: Vec<Value> = of_lot(db, tender.as_str(), lot.as_str())
        .await?
        .iter()
        .filter(|c| c.bidder_id == org)
        .map(shown_to_bidder)
        .collect();
    Ok(json!({ "items": mine }))
}

/// The bidder asked answers in writing before the deadline.
#[allow(clippy::too_many_arguments)]
pub async fn answer(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    clarification_id: &str,
    text: &str,
    rate: Decimal,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 20_000 {
        return Err(invalid(
            "answer",
            "An answer is 1 to 20,000 characters.",
            "答复须为 1 至 20,000 字。",
        ));
    }
    let txn = begin_write(db).await?;
    let tender_row = crate::tender::store::queries::lock(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let c = clarifications::Entity::find_by_id(clarification_id.to_owned())
        .one(&txn)
        .await?
        .filter(|c| {
            c.tender_id == tender.as_str()
                && c.lot_id == lot.as_str()
                && principal.is_member_of(&c.bidder_id)
        })
        .ok_or(DomainError::NotFound)?;
    if c.answer.is_some() {
        return Err(DomainError::Refused {
            code: ErrorCode::AlreadyAnswered,
            message: Text::new("This clarification has been answered.", "该澄清已答复。"),
        });
    }
    let reported = evaluation_reports::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(&txn)
        .await?
        .is_some();
    if now >= c.answer_due || c.lapsed_at.is_some() || reported {
        return Err(DomainError::Refused {
            code: ErrorCode::ClarificationClosed,
            message: Text::new(
                format!(
                    "The deadline to answer was {}: the committee no longer takes an answer.",
                    crate::time::rfc3339(c.answer_due)
                ),
                format!(
                    "答复期限为 {}，已过期：评标委员会不再接受答复。",
                    crate::time::rfc3339(c.answer_due)
                ),
            ),
        });
    }
    clarifications::Entity::update(clarifications::ActiveModel {
        id: Set(c.id.clone()),
        answer: Set(Some(text.to_owned())),
        answered_by: Set(Some(principal.account_id.to_string())),
        answered_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let object = format!("clarification:{}", c.id);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender.as_str()),
            &Actor::account(principal.account_id.as_str(), ip),
            "clarification.answer",
            object.clone(),
        )
        .details(
            json!({"answer_sha256": tenderhall_model::evaluation::k::commitment(text.as_bytes())}),
        ),
        now,
    )
    .await?;
    if let Some(account) =
        crate::account::store::queries::account_of_expert(&txn, &c.expert_id).await?
    {
        let message =
            crate::notify::clarification_answered(&tender_row.title, tender.as_str(), lot.as_str());
        crate::notify::service::notify(
            &txn,
            &account,
            "clarification.answered",
            Some(object),
            &message,
            true,
            now,
        )
        .await?;
    }
    // The last awaited explanation may conclude a review that leaves too few valid bids.
    if c.abnormally_low {
        super::fail::after_review(&txn, tender, lot, rate, now).await?;
    }
    let saved = clarifications::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(shown_to_bidder(&saved))
}

/// The chronograph at a clarification's deadline: unanswered, it lapses, once. An abnormally low
/// price left unexplained makes the bid invalid (87号令 Art 60), and the lot fails in the same
/// transaction if that leaves too few valid bids.
pub async fn lapse(
    db: &DatabaseConnection,
    clarification_id: &str,
    rate: Decimal,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(found) = clarifications::Entity::find_by_id(clarification_id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let txn = begin_write(db).await?;
    crate::tender::store::queries::lock(&txn, &found.tender_id).await?;
    let Some(c) = clarifications::Entity::find_by_id(clarification_id.to_owned())
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    if !is_open(&c) || now < c.answer_due {
        return Ok(());
    }
    clarifications::Entity::update(clarifications::ActiveModel {
        id: Set(c.id.clone()),
        lapsed_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&c.tender_id),
            &Actor::system(),
            "clarification.lapse",
            format!("clarification:{}", c.id),
        )
        .details(json!({"bidder_id": c.bidder_id, "abnormally_low": c.abnormally_low, "bid_invalid": c.abnormally_low})),
        now,
    )
    .await?;
    if c.abnormally_low {
        let (tender, lot) = (TenderId::parse(&c.tender_id)?, LotId::parse(&c.lot_id)?);
        super::fail::after_review(&txn, &tender, &lot, rate, now).await?;
    }
    txn.commit().await?;
    Ok(())
}
