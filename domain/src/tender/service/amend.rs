//! Clarifications and amendments of the tender documents (招标文件的澄清与修改): published to everyone
//! and told to everyone who may be preparing a bid (电子招标投标办法 Art 22); one that may affect bids,
//! issued less than 15 days before the deadline, moves the deadline out to meet the rule (实施条例
//! Art 21), and moves the chronograph's jobs with it. Answers to questions are published this way.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

use super::clarify::{MAX_BODY_CHARS, not_active, parse_text, questions_close_job, shown};
use super::query::{Tender, get};
use super::{deadline_job, load_owned, record_mandate_use};
use crate::account::Principal;
use crate::account::store::accounts;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::evaluation::service::price_k;
use crate::id::TenderId;
use crate::jobs::service as jobs;
use crate::notify::service::notify;
use crate::notify::tender_amended;
use crate::store::begin_write;
use crate::tender::store::{document_downloads, documents, tender_amendments, tenders};
use crate::tender::{TenderStatus, deadline_after_amendment, question_cutoff};

/// A published clarification or amendment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amendment {
    pub id: String,
    pub seq: u32,
    pub title: String,
    pub body: String,
    pub affects_bids: bool,
    pub document_ids: Vec<String>,
    /// The question it answers, when it is an answer.
    pub question_id: Option<String>,
    pub deadline_before: DateTime<Utc>,
    pub bid_deadline: DateTime<Utc>,
    pub published_at: DateTime<Utc>,
}

impl Amendment {
    pub fn deadline_moved(&self) -> bool {
        self.bid_deadline != self.deadline_before
    }

    fn from_row(m: tender_amendments::Model) -> DomainResult<Self> {
        Ok(Self {
            seq: u32::try_from(m.seq).map_err(DomainError::internal)?,
            document_ids: serde_json::from_str(&m.document_ids).map_err(DomainError::internal)?,
            id: m.id,
            title: m.title,
            body: m.body,
            affects_bids: m.affects_bids,
            question_id: m.question_id,
            deadline_before: m.deadline_before,
            bid_deadline: m.deadline_after,
            published_at: m.published_at,
        })
    }
}

/// What the tenderer publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentInput {
    pub title: String,
    pub body: String,
    /// Whether it may affect the preparation of bids (实施条例 Art 21); an amendment does unless
    /// the tenderer says otherwise.
    pub affects_bids: bool,
    /// Documents already uploaded to the tender that this amendment publishes.
    pub document_ids: Vec<String>,
    /// A later deadline the tenderer chooses; never earlier than the law requires.
    pub bid_deadline: Option<DateTime<Utc>>,
    /// A new evaluation set-up (docs/spec/evaluation.md): checked as at publication, and always
    /// affecting bids.
    pub evaluation: Option<crate::tender::input::SetupInput>,
}

/// The owner publishes a clarification or amendment of the documents.
pub async fn publish_amendment(
    db: &DatabaseConnection,
    master: &crate::keys::MasterKey,
    principal: &Principal,
    tender: &TenderId,
    input: AmendmentInput,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Amendment> {
    let input = AmendmentInput {
        title: parse_text("title", &input.title, 200)?,
        body: parse_text("body", &input.body, MAX_BODY_CHARS)?,
        // Changing how bids are evaluated changes how they are written (实施条例 Art 21).
        affects_bids: input.affects_bids || input.evaluation.is_some(),
        ..input
    };
    let txn = begin_write(db).await?;
    let tender = load_owned(&txn, principal, tender).await?;
    record_mandate_use(&txn, principal, &tender, "tender.amend", ip.clone(), now).await?;
    let evaluation = input.evaluation.clone();
    let setup = match &evaluation {
        Some(setup) => crate::tender::evaluation::check_setup(
            Some(setup),
            tender.kind,
            tender.award_method,
            &tender.opening_fields,
        )?,
        None => None,
    };
    let amendment = publish_in(&txn, principal, &tender, input, None, ip, now).await?;
    if let Some(evaluation) = evaluation {
        tenders::Entity::update_many()
            .col_expr(
                tenders::Column::Evaluation,
                Expr::value(serde_json::to_string(&evaluation).map_err(DomainError::internal)?),
            )
            .filter(tenders::Column::Id.eq(tender.id.as_str()))
            .exec(&txn)
            .await?;
        let lots: Vec<String> = tender.lots.iter().map(|l| l.id.clone()).collect();
        match setup.and_then(|s| s.k_range()) {
            Some(range) => {
                price_k::commit(&txn, master, &tender.id, &lots, range, now).await?;
            }
            // A set-up without K leaves no commitment behind to reveal.
            None => price_k::withdraw(&txn, &tender.id).await?,
        }
        audit::append(
            &txn,
            NewEntry::new(
                Chain::tender(&tender.id),
                &Actor::account(principal.account_id.as_str(), None),
                "tender.evaluation",
                format!("amendment:{}", amendment.id),
            )
            .details(json!({"evaluation": evaluation})),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(amendment)
}

/// Publishes inside the caller's transaction (the tender row is locked by `load_owned`): the record,
/// the moved deadline and its jobs, the audit entry, and a notification and mail to every account
/// that downloaded the documents.
pub(super) async fn publish_in(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    tender: &Tender,
    input: AmendmentInput,
    question_id: Option<String>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Amendment> {
    if tender.status != TenderStatus::Active || now >= tender.bid_deadline {
        return Err(not_active(tender));
    }
    for document_id in &input.document_ids {
        let found = documents::Entity::find_by_id(document_id.clone())
            .one(txn)
            .await?
            .is_some_and(|d| d.tender_id == tender.id);
        if !found {
            return Err(DomainError::invalid(
                "document_ids",
                format!("`{document_id}` is not a document of this tender: upload it first."),
                format!("`{document_id}` 不是本项目的文件，请先上传。"),
            ));
        }
    }
    let required = deadline_after_amendment(
        now,
        tender.bid_deadline,
        input.affects_bids,
        tender.accelerator,
    );
    let deadline = match input.bid_deadline {
        None => required,
        Some(chosen) if chosen >= required => chosen,
        Some(_) => {
            let (en, zh) = if input.affects_bids {
                (
                    format!(
                        "An amendment that may affect bids leaves at least 15 days to the deadline (实施条例 Art 21), and a deadline never moves earlier: choose {} or later.",
                        shown(required)
                    ),
                    format!(
                        "可能影响投标文件编制的澄清或修改，须距投标截止至少 15 日（《招标投标法实施条例》第二十一条），且截止时间不得提前：请选择 {} 或之后。",
                        shown(required)
                    ),
                )
            } else {
                (
                    format!(
                        "A bid deadline never moves earlier: choose {} or later.",
                        shown(required)
                    ),
                    format!("投标截止时间不得提前：请选择 {} 或之后。", shown(required)),
                )
            };
            return Err(DomainError::Invalid {
                code: ErrorCode::PeriodTooShort,
                field: Some("bid_deadline".to_owned()),
                message: Text::new(en, zh),
            });
        }
    };
    let seq = tender_amendments::Entity::find()
        .filter(tender_amendments::Column::TenderId.eq(tender.id.as_str()))
        .count(txn)
        .await?
        + 1;
    let seq = i32::try_from(seq).map_err(DomainError::internal)?;
    let id = format!("amd_{}", uuid::Uuid::now_v7().simple());
    tender_amendments::Entity::insert(tender_amendments::ActiveModel {
        id: Set(id.clone()),
        tender_id: Set(tender.id.clone()),
        seq: Set(seq),
        title: Set(input.title.clone()),
        body: Set(input.body.clone()),
        affects_bids: Set(input.affects_bids),
        document_ids: Set(
            serde_json::to_string(&input.document_ids).map_err(DomainError::internal)?
        ),
        question_id: Set(question_id.clone()),
        deadline_before: Set(tender.bid_deadline),
        deadline_after: Set(deadline),
        published_by: Set(principal.account_id.to_string()),
        published_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    let moved = deadline != tender.bid_deadline;
    if moved {
        let published_at = tender.published_at.unwrap_or(now);
        let cutoff = question_cutoff(published_at, deadline, tender.accelerator);
        tenders::Entity::update_many()
            .col_expr(tenders::Column::BidDeadline, Expr::value(deadline))
            .col_expr(tenders::Column::UpdatedAt, Expr::value(now))
            // Bidders may ask about what changed: the question period reopens if its new end
            // is still ahead.
            .col_expr(
                tenders::Column::QuestionsClosedAt,
                if cutoff > now {
                    Expr::value(Option::<DateTime<Utc>>::None)
                } else {
                    Expr::col(tenders::Column::QuestionsClosedAt)
                },
            )
            .filter(tenders::Column::Id.eq(tender.id.as_str()))
            .exec(txn)
            .await?;
        // The chronograph follows: new jobs at the new times; the old ones find nothing to do.
        jobs::enqueue(txn, deadline_job(&tender.id, deadline), now).await?;
        if cutoff > now && cutoff < deadline {
            jobs::enqueue(txn, questions_close_job(&tender.id, cutoff), now).await?;
        }
    }
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        txn,
        NewEntry::new(
            Chain::tender(&tender.id),
            &actor,
            if question_id.is_some() {
                "question.answer"
            } else {
                "tender.amend"
            },
            format!("amendment:{id}"),
        )
        .details(json!({
            "seq": seq,
            "title": input.title,
            "affects_bids": input.affects_bids,
            "document_ids": input.document_ids,
            "question_id": question_id,
            "bid_deadline_before": crate::time::rfc3339(tender.bid_deadline),
            "bid_deadline": crate::time::rfc3339(deadline),
        })),
        now,
    )
    .await?;
    let old = shown(tender.bid_deadline);
    let message = tender_amended(
        &tender.title,
        &tender.id,
        &input.title,
        &input.body,
        &shown(deadline),
        moved.then_some(old.as_str()),
    );
    let object = Some(format!("amendment:{id}"));
    for account in downloaders(txn, &tender.id).await? {
        notify(
            txn,
            &account,
            "tender.amendment",
            object.clone(),
            &message,
            true,
            now,
        )
        .await?;
    }
    Ok(Amendment {
        id,
        seq: u32::try_from(seq).map_err(DomainError::internal)?,
        title: input.title,
        body: input.body,
        affects_bids: input.affects_bids,
        document_ids: input.document_ids,
        question_id,
        deadline_before: tender.bid_deadline,
        bid_deadline: deadline,
        published_at: now,
    })
}

/// Every account that downloaded any document of the tender, and every member of an organization
/// registered for one of its lots, once each: everyone who may be preparing a bid.
async fn downloaders(
    txn: &impl ConnectionTrait,
    tender_id: &str,
) -> DomainResult<Vec<accounts::Model>> {
    let ids: Vec<String> = document_downloads::Entity::find()
        .select_only()
        .column(document_downloads::Column::AccountId)
        .distinct()
        .filter(document_downloads::Column::TenderId.eq(tender_id))
        .into_tuple()
        .all(txn)
        .await?;
    let registered =
        crate::deposit::store::queries::registered_organizations(txn, tender_id).await?;
    crate::account::store::queries::accounts_and_members(txn, ids, &registered).await
}

/// The published clarifications and amendments of a tender, in order (everyone, once published).
pub async fn list_amendments(
    db: &DatabaseConnection,
    viewer: Option<&Principal>,
    tender: &TenderId,
) -> DomainResult<Vec<Amendment>> {
    get(db, viewer, tender).await?;
    tender_amendments::Entity::find()
        .filter(tender_amendments::Column::TenderId.eq(tender.as_str()))
        .order_by_asc(tender_amendments::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(Amendment::from_row)
        .collect()
}
