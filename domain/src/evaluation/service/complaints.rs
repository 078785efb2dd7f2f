//! Complaints to the supervisors (投诉; docs/spec/evaluation.md "Complaints"). A bidder whose
//! objection (GP: challenge) was answered, or not answered in time, complains to the supervisors
//! within 10 days of knowing (实施条例 Art 60; GP: 15 working days, 政府采购法 Art 55). The
//! supervisors accept or refuse it within 3 working days, and decide an accepted one within 30
//! (实施条例 Art 61; 政府采购法 Art 56); accepting, they may suspend the procedure until the
//! decision (政府采购法 Art 57), which holds the award and the contract. The chronograph records an
//! acceptance or a decision that is late. Every step is audited and told to the parties.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use super::super::regime::Regime;
use super::super::store::{complaints, objections};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{LotId, TenderId};
use crate::jobs::NewJob;
use crate::store::begin_write;

/// The chronograph's job at a complaint's acceptance and decision deadlines.
pub const COMPLAINT_DUE_JOB: &str = "complaint.due";

fn shown(c: &complaints::Model) -> Value {
    let status = match (c.accepted_at, &c.refused_reason, c.upheld) {
        (_, Some(_), _) => "refused",
        (Some(_), _, Some(true)) => "upheld",
        (Some(_), _, Some(false)) => "dismissed",
        (Some(_), _, None) => "accepted",
        (None, None, _) => "filed",
    };
    json!({
        "complaint_id": c.id,
        "objection_id": c.objection_id,
        "organization_id": c.organization_id,
        "body": c.body,
        "status": status,
        "filed_at": crate::time::rfc3339(c.filed_at),
        "accept_due": crate::time::rfc3339(c.accept_due),
        "suspends": c.suspends,
        "accepted_at": c.accepted_at.map(crate::time::rfc3339),
        "refused_reason": c.refused_reason,
        "decide_due": c.decide_due.map(crate::time::rfc3339),
        "decided_at": c.decided_at.map(crate::time::rfc3339),
        "decision": c.decision,
        "overdue": c.overdue_at.is_some(),
    })
}

fn text_of(field: &str, value: &str) -> DomainResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 20_000 {
        return Err(DomainError::invalid(
            field,
            format!("`{field}` is 1 to 20,000 characters."),
            format!("`{field}` 须为 1 至 20,000 字。"),
        ));
    }
    Ok(value.to_owned())
}

fn not_now(en: &str, zh: &str) -> DomainError {
    DomainError::Refused {
        code: ErrorCode::WrongPhase,
        message: Text::new(en, zh),
    }
}

/// The complaints of a lot the viewer may read: supervisors and the tender's owners all of them,
/// a complainant its own.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Value> {
    let all = complaints::Entity::find()
        .filter(complaints::Column::TenderId.eq(tender.as_str()))
        .filter(complaints::Column::LotId.eq(lot.as_str()))
        .order_by_asc(complaints::Column::FiledAt)
        .all(db)
        .await?;
    let everything = principal.is_supervisor()
        || crate::tender::service::load(db, tender.as_str())
            .await?
            .is_some_and(|t| t.is_owned_by(principal));
    let items: Vec<Value> = all
        .iter()
        .filter(|c| everything || principal.is_member_of(&c.organization_id))
        .map(shown)
        .collect();
    Ok(json!({ "items": items }))
}

/// The objector complains of the answer to its objection, or of none in time.
#[allow(clippy::too_many_arguments)]
pub async fn file(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    objection_id: &str,
    body: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let body = text_of("body", body)?;
    let txn = begin_write(db).await?;
    let tender_row = crate::tender::store::queries::lock(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let o = objections::Entity::find_by_id(objection_id.to_owned())
        .one(&txn)
        .await?
        .filter(|o| {
            o.tender_id == tender.as_str()
                && o.lot_id == lot.as_str()
                && principal.is_member_of(&o.organization_id)
        })
        .ok_or(DomainError::NotFound)?;
    // One knows the outcome at the answer, or at the deadline that passed without one.
    let known = match o.answered_at {
        Some(at) => at,
        None if now >= o.answer_due => o.answer_due,
        None => {
            return Err(not_now(
                "A complaint follows the answer to the objection, or its deadline passing without one (实施条例 Art 60).",
                "投诉应当在异议答复后，或答复期限届满未答复后提出（实施条例第六十条）。",
            ));
        }
    };
    let law = Regime::of(&tender_row.kind);
    let accelerator = u32::try_from(tender_row.accelerator).unwrap_or(1);
    let last = crate::tender::service::period_end(&txn, known, law.complaint_window(), accelerator)
        .await?;
    if now > last {
        return Err(DomainError::Refused {
            code: ErrorCode::DeadlinePassed,
            message: Text::new(
                format!(
                    "A complaint comes within {} of knowing the answer; the last day was {}.",
                    law.complaint_window(),
                    crate::time::rfc3339(last)
                ),
                format!(
                    "投诉应当在知道答复之日起 {} 内提出，期限已于 {} 届满。",
                    law.complaint_window(),
                    crate::time::rfc3339(last)
                ),
            ),
        });
    }
    if complaints::Entity::find()
        .filter(complaints::Column::ObjectionId.eq(o.id.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(DomainError::Refused {
            code: ErrorCode::ComplaintExists,
            message: Text::new(
                "This objection has its complaint already.",
                "已就该异议提出投诉。",
            ),
        });
    }
    let accept_due =
        crate::tender::service::period_end(&txn, now, Regime::complaint_acceptance(), accelerator)
            .await?;
    let id = format!("cmp_{}", uuid::Uuid::now_v7().simple());
    complaints::Entity::insert(complaints::ActiveModel {
        id: Set(id.clone()),
        tender_id: Set(tender.to_string()),
        lot_id: Set(lot.to_string()),
        objection_id: Set(o.id.clone()),
        organization_id: Set(o.organization_id.clone()),
        account_id: Set(principal.account_id.to_string()),
        body: Set(body),
        filed_at: Set(now),
        accept_due: Set(accept_due),
        suspends: Set(false),
        accepted_at: Set(None),
        refused_reason: Set(None),
        decide_due: Set(None),
        decided_at: Set(None),
        upheld: Set(None),
        decision: Set(None),
        decided_by: Set(None),
        overdue_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let object = format!("complaint:{id}");
    audit::append(
        &txn,
        NewEntry::new(Chain::tender(tender.as_str()), &Actor::account(principal.account_id.as_str(), ip), "complaint.file", object.clone())
            .details(json!({"lot": lot.as_str(), "objection_id": o.id, "accept_due": crate::time::rfc3339(accept_due)})),
        now,
    )
    .await?;
    enqueue_due(&txn, &id, "accept", accept_due, now).await?;
    let message = crate::notify::complaint_filed(
        &tender_row.title,
        tender.as_str(),
        lot.as_str(),
        &crate::time::rfc3339(accept_due),
    );
    let mut told = crate::account::store::queries::supervisor_organizations(&txn).await?;
    told.extend(crate::tender::store::queries::owner_organizations(&txn, &tender_row).await?);
    for org in told {
        crate::notify::service::notify_organization(
            &txn,
            &org,
            "complaint.filed",
            Some(object.clone()),
            &message,
            true,
            now,
        )
        .await?;
    }
    let saved = complaints::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(shown(&saved))
}

async fn enqueue_due(
    txn: &impl ConnectionTrait,
    id: &str,
    step: &str,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    crate::jobs::service::enqueue(
        txn,
        NewJob::new(
            COMPLAINT_DUE_JOB,
            json!({"complaint_id": id, "step": step}),
            at,
            format!("{COMPLAINT_DUE_JOB}:{id}:{step}"),
        ),
        now,
    )
    .await?;
    Ok(())
}

/// What a supervisor does with a complaint.
#[derive(Debug, Clone)]
pub enum Ruling {
    /// Accepted, the procedure suspended until the decision or not.
    Accept {
        suspend: bool,
    },
    Refuse {
        reason: String,
    },
    Decide {
        upheld: bool,
        decision: String,
    },
}

/// A supervisor accepts or refuses a filed complaint, or decides an accepted one. The
/// complainant and the tender's owners are told.
#[allow(clippy::too_many_arguments)]
pub async fn rule(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    complaint_id: &str,
    ruling: Ruling,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    if !principal.is_supervisor() {
        return Err(DomainError::forbidden(
            "Only supervisors handle complaints (实施条例 Art 61).",
            "投诉由行政监督部门处理（实施条例第六十一条）。",
        ));
    }
    let txn = begin_write(db).await?;
    let tender_row = crate::tender::store::queries::lock(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let c = complaints::Entity::find_by_id(complaint_id.to_owned())
        .one(&txn)
        .await?
        .filter(|c| c.tender_id == tender.as_str() && c.lot_id == lot.as_str())
        .ok_or(DomainError::NotFound)?;
    let handled = c.refused_reason.is_some() || c.accepted_at.is_some();
    let mut update = complaints::ActiveModel {
        id: Set(c.id.clone()),
        ..Default::default()
    };
    let (action, details) = match &ruling {
        Ruling::Accept { .. } | Ruling::Refuse { .. } if handled => {
            return Err(DomainError::Refused {
                code: ErrorCode::AlreadyAnswered,
                message: Text::new(
                    "This complaint has been accepted or refused already.",
                    "该投诉已受理或不予受理。",
                ),
            });
        }
        Ruling::Accept { suspend } => {
            let accelerator = u32::try_from(tender_row.accelerator).unwrap_or(1);
            let decide_due = crate::tender::service::period_end(
                &txn,
                now,
                Regime::complaint_decision(),
                accelerator,
            )
            .await?;
            update.accepted_at = Set(Some(now));
            update.suspends = Set(*suspend);
            update.decide_due = Set(Some(decide_due));
            enqueue_due(&txn, &c.id, "decide", decide_due, now).await?;
            (
                "complaint.accept",
                json!({"suspend": suspend, "decide_due": crate::time::rfc3339(decide_due), "late": now > c.accept_due}),
            )
        }
        Ruling::Refuse { reason } => {
            let reason = text_of("reason", reason)?;
            update.refused_reason = Set(Some(reason.clone()));
            (
                "complaint.refuse",
                json!({"reason": reason, "late": now > c.accept_due}),
            )
        }
        Ruling::Decide { .. } if c.accepted_at.is_none() || c.refused_reason.is_some() => {
            return Err(not_now(
                "Only an accepted complaint is decided.",
                "只有已受理的投诉才作出处理决定。",
            ));
        }
        Ruling::Decide { .. } if c.decided_at.is_some() => {
            return Err(DomainError::Refused {
                code: ErrorCode::AlreadyAnswered,
                message: Text::new("This complaint is decided.", "该投诉已作出处理决定。"),
            });
        }
        Ruling::Decide { upheld, decision } => {
            let decision = text_of("decision", decision)?;
            update.decided_at = Set(Some(now));
            update.upheld = Set(Some(*upheld));
            update.decision = Set(Some(decision.clone()));
            update.decided_by = Set(Some(principal.account_id.to_string()));
            (
                "complaint.decide",
                json!({"upheld": upheld, "decision": decision, "late": c.decide_due.is_some_and(|d| now > d)}),
            )
        }
    };
    complaints::Entity::update(update).exec(&txn).await?;
    let object = format!("complaint:{}", c.id);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender.as_str()),
            &Actor::account(principal.account_id.as_str(), ip),
            action,
            object.clone(),
        )
        .details(details),
        now,
    )
    .await?;
    let message =
        crate::notify::complaint_ruled(&tender_row.title, tender.as_str(), lot.as_str(), action);
    let mut told = crate::tender::store::queries::owner_organizations(&txn, &tender_row).await?;
    told.push(c.organization_id.clone());
    for org in told {
        crate::notify::service::notify_organization(
            &txn,
            &org,
            action,
            Some(object.clone()),
            &message,
            true,
            now,
        )
        .await?;
    }
    let saved = complaints::Entity::find_by_id(c.id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(shown(&saved))
}

/// The chronograph at a complaint's acceptance (`accept`) or decision (`decide`) deadline: still
/// not done, it is recorded as overdue on the tender's chain, for the supervisors. Once only.
pub async fn due(
    db: &DatabaseConnection,
    complaint_id: &str,
    step: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let Some(found) = complaints::Entity::find_by_id(complaint_id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let txn = begin_write(db).await?;
    // The supervisors' rulings take the tender's lock: one taken just in time is seen here.
    crate::tender::store::queries::lock(&txn, &found.tender_id).await?;
    let Some(c) = complaints::Entity::find_by_id(complaint_id.to_owned())
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    let late = match step {
        "accept" => c.accepted_at.is_none() && c.refused_reason.is_none() && now >= c.accept_due,
        _ => c.decided_at.is_none() && c.decide_due.is_some_and(|d| now >= d),
    };
    // Each step is recorded late once: a decision's lateness comes after any acceptance's.
    let recorded = match (step, c.overdue_at, c.decide_due) {
        ("accept", Some(_), _) => true,
        (_, Some(at), Some(decide_due)) => at >= decide_due,
        _ => false,
    };
    if !late || recorded {
        return Ok(());
    }
    complaints::Entity::update(complaints::ActiveModel {
        id: Set(c.id.clone()),
        overdue_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&c.tender_id),
            &Actor::system(),
            "complaint.overdue",
            format!("complaint:{}", c.id),
        )
        .details(json!({"step": step})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
