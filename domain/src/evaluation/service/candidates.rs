//! The candidates' publicity and objections (中标候选人公示与异议, 实施条例 Art 54;
//! docs/spec/evaluation.md "Candidates and objections"). The platform publishes the report's
//! candidates in the transaction that signs the report: a list it signs, public, for 3 days
//! (÷ accelerator), told to the lot's bidders. A bidder of the lot objects within that period; the
//! tenderer answers within 3 days; until every objection is answered the procedure is suspended.
//! The chronograph ends the period and reminds of answers overdue.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use tenderhall_model::evaluation::publicity::{Status, status_with_complaints};

use super::super::regime::Regime;
use super::super::store::{complaints, lot_candidates, objections};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{LotId, TenderId};
use crate::jobs::NewJob;
use crate::keys::PlatformSigner;
use crate::store::begin_write;

/// The chronograph's job at the end of an objection's answer period.
pub const ANSWER_DUE_JOB: &str = "objection.answer_due";

/// Publishes the candidates of a signed report inside its transaction: the list the platform
/// signs, the period, the audit entry, the lot's bidders told.
pub(crate) async fn publish_in(
    txn: &impl ConnectionTrait,
    signer: &PlatformSigner,
    tender: &crate::tender::store::tenders::Model,
    lot_id: &str,
    report: &Value,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let accelerator = u32::try_from(tender.accelerator).unwrap_or(1);
    let law = Regime::of(&tender.kind);
    let ends = crate::tender::service::period_end(txn, now, law.publicity(), accelerator).await?;
    let close = match law.objections_after() {
        Some(period) => crate::tender::service::period_end(txn, ends, period, accelerator).await?,
        None => ends,
    };
    let names: std::collections::HashMap<String, String> = report["bids"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            (
                b["bidder_id"].as_str().unwrap_or_default().to_owned(),
                b["bidder_name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let candidates: Vec<Value> = report["ranking"]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            report["ranking"]["candidates"]
                .as_array()
                .is_some_and(|c| c.contains(&r["bidder_id"]))
        })
        .map(|r| {
            let id = r["bidder_id"].as_str().unwrap_or_default();
            json!({
                "rank": r["rank"], "bidder_id": id,
                "bidder_name": names.get(id).cloned().unwrap_or_default(),
                "price": r["price"], "total": r["total"],
            })
        })
        .collect();
    let mut record = json!({
        "tender": tender.id,
        "lot": lot_id,
        "notice": law.notice(),
        "candidates": candidates,
        "published_at": crate::time::rfc3339(now),
        "publicity_ends_at": crate::time::rfc3339(ends),
        "objections_close_at": crate::time::rfc3339(close),
        "platform_key": signer.key_id(),
    });
    // Government procurement publishes the committee's names with the result (87号令 Art 69).
    if law == Regime::GovernmentProcurement {
        let ids: Vec<String> = report["committee"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect();
        record["committee"] = Value::from(crate::expert::store::queries::names(txn, &ids).await?);
    }
    let signature = signer.sign(to_canonical_string(&record).as_bytes());
    record["signature"] = Value::String(signature);
    lot_candidates::Entity::insert(lot_candidates::ActiveModel {
        tender_id: Set(tender.id.clone()),
        lot_id: Set(lot_id.to_owned()),
        record: Set(to_canonical_string(&record)),
        published_at: Set(now),
        publicity_ends_at: Set(ends),
        objections_close_at: Set(Some(close)),
    })
    .exec_without_returning(txn)
    .await?;
    let object = format!("lot:{}/{lot_id}", tender.id);
    audit::append(
        txn,
        NewEntry::new(Chain::tender(&tender.id), &Actor::system(), "candidates.publish", object.clone())
            .details(json!({"candidates": record["candidates"], "publicity_ends_at": record["publicity_ends_at"]})),
        now,
    )
    .await?;
    let message = crate::notify::candidates_published(&tender.title, &tender.id, lot_id);
    for org in crate::deposit::store::queries::registered_organizations(txn, &tender.id).await? {
        crate::notify::service::notify_organization(
            txn,
            &org,
            "candidates.published",
            Some(object.clone()),
            &message,
            true,
            now,
        )
        .await?;
    }
    Ok(())
}

/// When objections close: the publicity's end, or later for a government procurement result.
pub(crate) fn objections_close(row: &lot_candidates::Model) -> DateTime<Utc> {
    row.objections_close_at.unwrap_or(row.publicity_ends_at)
}

async fn row(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Option<lot_candidates::Model>> {
    Ok(
        lot_candidates::Entity::find_by_id((tender.to_string(), lot.to_string()))
            .one(db)
            .await?,
    )
}

async fn lot_objections(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Vec<objections::Model>> {
    Ok(objections::Entity::find()
        .filter(objections::Column::TenderId.eq(tender.as_str()))
        .filter(objections::Column::LotId.eq(lot.as_str()))
        .order_by_asc(objections::Column::RaisedAt)
        .all(db)
        .await?)
}

fn publicity_status(
    row: &lot_candidates::Model,
    objections: &[objections::Model],
    complaints: &[complaints::Model],
    now: DateTime<Utc>,
) -> Status {
    let unanswered = objections.iter().filter(|o| o.answer.is_none()).count();
    let suspending = complaints
        .iter()
        .filter(|c| c.suspends && c.decided_at.is_none())
        .count();
    status_with_complaints(now < row.publicity_ends_at, unanswered, suspending)
}

async fn lot_complaints(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Vec<complaints::Model>> {
    Ok(complaints::Entity::find()
        .filter(complaints::Column::TenderId.eq(tender.as_str()))
        .filter(complaints::Column::LotId.eq(lot.as_str()))
        .all(db)
        .await?)
}

/// The publicity's status now, for the award.
pub(crate) async fn status_of(
    db: &impl ConnectionTrait,
    row: &lot_candidates::Model,
    now: DateTime<Utc>,
) -> DomainResult<Status> {
    let tender = TenderId::parse(&row.tender_id)?;
    let lot = LotId::parse(&row.lot_id)?;
    let all = lot_objections(db, &tender, &lot).await?;
    let complaints = lot_complaints(db, &tender, &lot).await?;
    Ok(publicity_status(row, &all, &complaints, now))
}

fn objection_json(o: &objections::Model, with_objector: bool) -> Value {
    json!({
        "objection_id": o.id,
        "organization_id": if with_objector { Value::from(o.organization_id.clone()) } else { Value::Null },
        "body": o.body,
        "raised_at": crate::time::rfc3339(o.raised_at),
        "answer_due": crate::time::rfc3339(o.answer_due),
        "answer": o.answer,
        "answered_at": o.answered_at.map(crate::time::rfc3339),
        "overdue": o.overdue_at.is_some(),
    })
}

/// The published candidates (anyone): the signed list, the status, and the objections the viewer
/// may read (the tender's owners and supervisors all of them, an objector its own). 404 before
/// they are published.
pub async fn view(
    db: &DatabaseConnection,
    principal: Option<&Principal>,
    tender: &TenderId,
    lot: &LotId,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let row = row(db, tender, lot).await?.ok_or(DomainError::NotFound)?;
    let all = lot_objections(db, tender, lot).await?;
    let owner_or_supervisor = match principal {
        Some(p) if p.is_supervisor() => true,
        Some(p) => crate::tender::service::load(db, tender.as_str())
            .await?
            .is_some_and(|t| t.is_owned_by(p)),
        None => false,
    };
    let shown: Vec<Value> = all
        .iter()
        .filter(|o| {
            owner_or_supervisor || principal.is_some_and(|p| p.is_member_of(&o.organization_id))
        })
        .map(|o| {
            objection_json(
                o,
                owner_or_supervisor
                    || principal.is_some_and(|p| p.is_member_of(&o.organization_id)),
            )
        })
        .collect();
    let record: Value = serde_json::from_str(&row.record).map_err(DomainError::internal)?;
    let complaints = lot_complaints(db, tender, lot).await?;
    Ok(json!({
        "status": publicity_status(&row, &all, &complaints, now).as_str(),
        "record": record,
        "objections": shown,
    }))
}

/// A bidder of the lot objects to the result during the publicity (实施条例 Art 54): the procedure
/// is suspended until the tenderer answers, which it must within 3 days.
pub async fn object(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    body: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 20_000 {
        return Err(DomainError::invalid(
            "body",
            "An objection says what is objected to and why, in 1 to 20,000 characters.",
            "异议须写明异议事项及理由，1 至 20,000 字。",
        ));
    }
    let txn = begin_write(db).await?;
    let tender_row = crate::tender::store::queries::lock(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let row = row(&txn, tender, lot).await?.ok_or(DomainError::NotFound)?;
    let Some(org) = principal
        .membership
        .as_ref()
        .map(|m| m.organization_id.to_string())
    else {
        return Err(DomainError::NotFound);
    };
    if crate::deposit::store::queries::active_registration(
        &txn,
        tender.as_str(),
        lot.as_str(),
        &org,
    )
    .await?
    .is_none()
    {
        return Err(DomainError::Forbidden(Text::new(
            "Only a bidder of this lot may object to its result (实施条例 Art 54).",
            "仅本标段的投标人可对评标结果提出异议（实施条例第五十四条）。",
        )));
    }
    let law = Regime::of(&tender_row.kind);
    if now >= objections_close(&row) {
        return Err(DomainError::Refused {
            code: ErrorCode::PublicityClosed,
            message: match law {
                Regime::TenderingLaw => Text::new(
                    "Objections to the result are raised during the candidates' publicity, which has ended (实施条例 Art 54); a complaint goes to the supervisors.",
                    "对评标结果的异议应当在中标候选人公示期间提出，公示期已结束（实施条例第五十四条）；可向监督部门投诉。",
                ),
                Regime::GovernmentProcurement => Text::new(
                    "Challenges to the result come within 7 working days of the result notice's end, which have passed (政府采购法 Art 52).",
                    "质疑应当在中标、成交结果公告期限届满之日起七个工作日内提出，期限已过（政府采购法第五十二条）。",
                ),
            },
        });
    }
    let accelerator = u32::try_from(tender_row.accelerator).unwrap_or(1);
    let due = crate::tender::service::period_end(&txn, now, law.answer(), accelerator).await?;
    let id = format!("obj_{}", uuid::Uuid::now_v7().simple());
    objections::Entity::insert(objections::ActiveModel {
        id: Set(id.clone()),
        tender_id: Set(tender.to_string()),
        lot_id: Set(lot.to_string()),
        organization_id: Set(org.clone()),
        account_id: Set(principal.account_id.to_string()),
        body: Set(body.to_owned()),
        raised_at: Set(now),
        answer_due: Set(due),
        answer: Set(None),
        answered_by: Set(None),
        answered_at: Set(None),
        overdue_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let object = format!("objection:{id}");
    audit::append(
        &txn,
        NewEntry::new(Chain::tender(tender.as_str()), &Actor::account(principal.account_id.as_str(), ip), "objection.raise", object.clone())
            .details(json!({"lot": lot.as_str(), "organization_id": org, "answer_due": crate::time::rfc3339(due)})),
        now,
    )
    .await?;
    crate::jobs::service::enqueue(
        &txn,
        NewJob::new(
            ANSWER_DUE_JOB,
            json!({"objection_id": id}),
            due,
            format!("{ANSWER_DUE_JOB}:{id}"),
        ),
        now,
    )
    .await?;
    let message = crate::notify::objection_raised(
        &tender_row.title,
        tender.as_str(),
        lot.as_str(),
        &crate::time::rfc3339(due),
    );
    for owner in crate::tender::store::queries::owner_organizations(&txn, &tender_row).await? {
        crate::notify::service::notify_organization(
            &txn,
            &owner,
            "objection.raised",
            Some(object.clone()),
            &message,
            true,
            now,
        )
        .await?;
    }
    let saved = objections::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(objection_json(&saved, true))
}

/// The tender's owner answers an objection; the procedure resumes once every one is answered.
#[allow(clippy::too_many_arguments)]
pub async fn answer(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    objection_id: &str,
    text: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 20_000 {
        return Err(DomainError::invalid(
            "answer",
            "An answer is 1 to 20,000 characters.",
            "答复须为 1 至 20,000 字。",
        ));
    }
    let txn = begin_write(db).await?;
    let tender_row = crate::tender::store::queries::lock(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let owned = crate::tender::service::load(&txn, tender.as_str())
        .await?
        .is_some_and(|t| t.is_owned_by(principal));
    let o = objections::Entity::find_by_id(objection_id.to_owned())
        .one(&txn)
        .await?
        .filter(|o| o.tender_id == tender.as_str() && o.lot_id == lot.as_str() && owned)
        .ok_or(DomainError::NotFound)?;
    if o.answer.is_some() {
        return Err(DomainError::Refused {
            code: ErrorCode::AlreadyAnswered,
            message: Text::new("This objection has been answered.", "该异议已答复。"),
        });
    }
    objections::Entity::update(objections::ActiveModel {
        id: Set(o.id.clone()),
        answer: Set(Some(text.to_owned())),
        answered_by: Set(Some(principal.account_id.to_string())),
        answered_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let object = format!("objection:{}", o.id);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender.as_str()),
            &Actor::account(principal.account_id.as_str(), ip),
            "objection.answer",
            object.clone(),
        )
        .details(json!({"late": now > o.answer_due})),
        now,
    )
    .await?;
    let message =
        crate::notify::objection_answered(&tender_row.title, tender.as_str(), lot.as_str());
    crate::notify::service::notify_organization(
        &txn,
        &o.organization_id,
        "objection.answered",
        Some(object),
        &message,
        true,
        now,
    )
    .await?;
    let saved = objections::Entity::find_by_id(o.id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(objection_json(&saved, true))
}

/// The chronograph at an objection's answer deadline: an objection still unanswered is recorded
/// as overdue on the tender's chain, for the supervisors. A second run changes nothing.
pub async fn answer_due(
    db: &DatabaseConnection,
    objection_id: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let Some(o) = objections::Entity::find_by_id(objection_id.to_owned())
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    if o.answer.is_some() || o.overdue_at.is_some() || now < o.answer_due {
        return Ok(());
    }
    objections::Entity::update(objections::ActiveModel {
        id: Set(o.id.clone()),
        overdue_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&o.tender_id),
            &Actor::system(),
            "objection.overdue",
            format!("objection:{}", o.id),
        )
        .details(json!({"answer_due": crate::time::rfc3339(o.answer_due)})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
