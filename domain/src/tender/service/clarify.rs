//! Questions about the tender documents (澄清请求). Bidders ask until 10 days before the bid
//! deadline (实施条例 Art 22), when a chronograph job ends the period. Who asked is recorded on the
//! tender's sealed audit chain and never shown: the tenderer sees the question alone, other bidders
//! only once it is answered (电子招标投标办法 Art 22). An answer is published as a clarification
//! (`amend.rs`).

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;

use super::amend::{Amendment, AmendmentInput, publish_in};
use super::query::{Tender, get, load};
use super::{conflict, load_owned, record_mandate_use};
use crate::account::{OrganizationKind, Principal};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{QuestionId, TenderId};
use crate::jobs::NewJob;
use crate::notify::questions_closed;
use crate::notify::service::notify_organization;
use crate::store::begin_write;
use crate::tender::store::{tender_questions, tenders};
use crate::tender::{TenderStatus, china_time, question_cutoff};

/// The chronograph job that ends a tender's question period.
pub const QUESTIONS_CLOSE_JOB: &str = "tender.questions_close";

const MAX_QUESTION_CHARS: usize = 5_000;
pub(super) const MAX_BODY_CHARS: usize = 50_000;

/// The job ending the question period of `tender_id` at `cutoff`; keyed by its time, so a moved
/// deadline adds a new one and the old one finds nothing to do.
pub(super) fn questions_close_job(tender_id: &str, cutoff: DateTime<Utc>) -> NewJob {
    NewJob::new(
        QUESTIONS_CLOSE_JOB,
        json!({"tender_id": tender_id}),
        cutoff,
        format!(
            "{QUESTIONS_CLOSE_JOB}:{tender_id}:{}",
            cutoff.timestamp_micros()
        ),
    )
}

/// A question as the viewer may see it: never who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: String,
    pub question: String,
    pub asked_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// True for the viewer's own organization's questions (only the asker learns this).
    pub mine: bool,
}

/// Free text of a question, an answer or an amendment: trimmed, not empty, bounded; line breaks
/// are kept, other control characters refused.
pub(super) fn parse_text(field: &str, raw: &str, max: usize) -> DomainResult<String> {
    let text = raw.trim();
    let bad_char = text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t');
    if text.is_empty() || text.chars().count() > max || bad_char {
        return Err(DomainError::invalid(
            field,
            format!("`{field}` must be 1 to {max} characters of text."),
            format!("`{field}` 须为 1 至 {max} 个字符的文本。"),
        ));
    }
    Ok(text.to_owned())
}

pub(super) fn not_active(t: &Tender) -> DomainError {
    conflict(
        ErrorCode::TenderNotActive,
        format!(
            "The tender is {}: its documents can no longer be questioned or amended.",
            t.status.as_str()
        ),
        format!(
            "该项目状态为 {}，已不能对招标文件提问或修改。",
            t.status.as_str()
        ),
    )
}

pub(super) fn shown(t: DateTime<Utc>) -> String {
    t.with_timezone(&china_time())
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// A bidder asks a question about the documents of an active tender, before the question cut-off.
pub async fn ask_question(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    question: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Question> {
    let tender_id = tender.as_str();
    let membership = principal.require_kind(&[OrganizationKind::Bidder])?;
    let organization = membership.organization_id.to_string();
    let question = parse_text("question", question, MAX_QUESTION_CHARS)?;
    let tender = get(db, Some(principal), tender).await?;
    if tender.status != TenderStatus::Active || now >= tender.bid_deadline {
        return Err(not_active(&tender));
    }
    let published_at = tender.published_at.unwrap_or(now);
    let cutoff = question_cutoff(published_at, tender.bid_deadline, tender.accelerator);
    if now >= cutoff {
        return Err(conflict(
            ErrorCode::QuestionsClosed,
            format!(
                "Questions about this tender closed at {} (10 days before the bid deadline, 实施条例 Art 22).",
                shown(cutoff)
            ),
            format!(
                "本项目的提问已于 {} 截止（投标截止前 10 日，《招标投标法实施条例》第二十二条）。",
                shown(cutoff)
            ),
        ));
    }
    let id = QuestionId::generate().to_string();
    let txn = begin_write(db).await?;
    tender_questions::Entity::insert(tender_questions::ActiveModel {
        id: Set(id.clone()),
        tender_id: Set(tender_id.to_owned()),
        asked_by_account: Set(principal.account_id.to_string()),
        asked_by_org: Set(Some(organization.clone())),
        question: Set(question.clone()),
        asked_at: Set(now),
        answer: Set(None),
        answered_by: Set(None),
        answered_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    // Who asked is a potential bidder: recorded where supervisors read it only after the deadline.
    let actor = Actor::account(principal.account_id.as_str(), ip);
    let mut entry = NewEntry::new(
        Chain::tender_sealed(tender_id),
        &actor,
        "question.ask",
        format!("question:{id}"),
    )
    .details(json!({"organization_id": organization}));
    entry.withheld_until = Some(tender.bid_deadline);
    audit::append(&txn, entry, now).await?;
    // The owners hear that there is a question, never from whom.
    let message = (
        Text::new(
            format!("New question: {}", tender.title),
            format!("新的澄清提问：{}", tender.title),
        ),
        Text::new(
            format!(
                "A bidder has asked about the documents of \"{}\" ({tender_id}):\n\n{question}\n\nAnswer it in the platform; the answer is published to everyone.\n",
                tender.title
            ),
            format!(
                "有潜在投标人对项目“{}”（{tender_id}）的招标文件提问：\n\n{question}\n\n请在平台上答复；答复将向所有人公开。\n",
                tender.title
            ),
        ),
    );
    for org in owner_orgs(&tender) {
        notify_organization(
            &txn,
            org,
            "tender.question",
            Some(format!("question:{id}")),
            &message,
            false,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Question {
        id,
        question,
        asked_at: now,
        answer: None,
        answered_at: None,
        mine: true,
    })
}

/// The tender's tenderer, and its agency while mandated (委托代理): who answers questions.
pub(super) fn owner_orgs(tender: &Tender) -> Vec<&str> {
    let mut orgs = vec![tender.tenderer_org_id.as_str()];
    if let Some(agency) = tender.agency_org_id.as_deref()
        && tender.agency_mandate.is_some()
    {
        orgs.push(agency);
    }
    orgs
}

/// The questions of a tender as the viewer may see them: its owners see every question, the asker
/// its own, everyone else the answered ones. Nobody sees who asked.
pub async fn list_questions(
    db: &DatabaseConnection,
    viewer: Option<&Principal>,
    tender: &TenderId,
) -> DomainResult<Vec<Question>> {
    let tender_id = tender.as_str();
    let tender = get(db, viewer, tender).await?;
    let owner = viewer.is_some_and(|p| tender.is_owned_by(p));
    let own_org = viewer
        .and_then(|p| p.membership.as_ref())
        .map(|m| m.organization_id.to_string());
    let rows = tender_questions::Entity::find()
        .filter(tender_questions::Column::TenderId.eq(tender_id))
        .order_by_asc(tender_questions::Column::Id)
        .limit(10_000)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|q| {
            let mine = own_org.is_some() && q.asked_by_org == own_org;
            (owner || mine || q.answer.is_some()).then_some(Question {
                id: q.id,
                question: q.question,
                asked_at: q.asked_at,
                answer: q.answer,
                answered_at: q.answered_at,
                mine,
            })
        })
        .collect())
}

/// The owner answers a question: the answer is published to everyone as a clarification, with the
/// question, and mailed to every downloader.
#[allow(clippy::too_many_arguments)]
pub async fn answer_question(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    question: &QuestionId,
    answer: &str,
    affects_bids: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Amendment> {
    let (tender_id, question_id) = (tender.as_str(), question.as_str());
    let answer = parse_text("answer", answer, MAX_BODY_CHARS)?;
    let txn = begin_write(db).await?;
    let tender = load_owned(&txn, principal, tender).await?;
    record_mandate_use(&txn, principal, &tender, "question.answer", ip.clone(), now).await?;
    let question = tender_questions::Entity::find_by_id(question_id.to_owned())
        .one(&txn)
        .await?
        .filter(|q| q.tender_id == tender_id)
        .ok_or(DomainError::NotFound)?;
    if question.answer.is_some() {
        return Err(conflict(
            ErrorCode::AlreadyAnswered,
            "This question has been answered already; publish an amendment to change the answer.",
            "该问题已答复；如需更改答复，请发布修改公告。",
        ));
    }
    tender_questions::Entity::update(tender_questions::ActiveModel {
        id: Set(question.id.clone()),
        answer: Set(Some(answer.clone())),
        answered_by: Set(Some(principal.account_id.to_string())),
        answered_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let body = format!("问 / Q: {}\n\n答 / A: {answer}", question.question);
    let input = AmendmentInput {
        title: "答疑 / Answer to a question".to_owned(),
        body,
        affects_bids,
        document_ids: Vec::new(),
        bid_deadline: None,
        evaluation: None,
    };
    let amendment = publish_in(&txn, principal, &tender, input, Some(question.id), ip, now).await?;
    txn.commit().await?;
    Ok(amendment)
}

/// The chronograph at the question cut-off: the period ends once (a second run, or a run for a
/// deadline that has since moved, changes nothing) and the owners hear how many questions wait.
/// Returns whether this call closed it.
pub async fn close_questions(
    db: &DatabaseConnection,
    tender: &TenderId,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let tender_id = tender.as_str();
    let txn = begin_write(db).await?;
    let Some(row) = tenders::Entity::find_by_id(tender_id.to_owned())
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        return Ok(false);
    };
    let published_at = row.published_at.unwrap_or(row.created_at);
    let cutoff = question_cutoff(
        published_at,
        row.bid_deadline,
        u32::try_from(row.accelerator).unwrap_or(1),
    );
    if row.status != TenderStatus::Active.as_str()
        || row.questions_closed_at.is_some()
        || now < cutoff
    {
        txn.rollback().await?;
        return Ok(false);
    }
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(row.id.clone()),
        questions_closed_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let unanswered = tender_questions::Entity::find()
        .filter(tender_questions::Column::TenderId.eq(tender_id))
        .filter(tender_questions::Column::Answer.is_null())
        .count(&txn)
        .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender_id),
            &Actor::system(),
            "tender.questions_closed",
            format!("tender:{tender_id}"),
        )
        .details(json!({"cutoff": crate::time::rfc3339(cutoff), "unanswered": unanswered})),
        now,
    )
    .await?;
    let tender = load(&txn, tender_id).await?.ok_or(DomainError::NotFound)?;
    let message = questions_closed(&tender.title, tender_id, unanswered);
    for org in owner_orgs(&tender) {
        notify_organization(
            &txn,
            org,
            "tender.questions_closed",
            Some(format!("tender:{tender_id}")),
            &message,
            true,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}
