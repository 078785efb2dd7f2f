//! The bank's side of a refund: the job that instructs it through the `BankGateway`, the bank's
//! confirmation that settles it once (or sends it again when it failed), and the list operators
//! follow.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::ledger::post;
use super::refund::send_job;
use tenderhall_model::state::RefundStatus;

use crate::audit::store as audit;
use crate::deposit::accounts::{BANK, refunds_pending};
use crate::deposit::store::refunds;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{RefundId, TenderId};
use crate::jobs::service as jobs;
use crate::money::Currency;
use crate::ports::{BankGateway, RefundInstruction};
use crate::store::begin_write;
use crate::tender::store::queries;

/// The job: hands a booked refund to the bank. Idempotent: a refund already instructed or confirmed
/// is not sent again; the refund id is the bank's idempotency key for a crash between the two.
pub async fn send_refund(
    db: &DatabaseConnection,
    gateway: &dyn BankGateway,
    refund: &RefundId,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let refund_id = refund.as_str();
    let refund = refunds::Entity::find_by_id(refund_id.to_owned())
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    if refund.status == RefundStatus::Instructed.as_str()
        || refund.status == RefundStatus::Confirmed.as_str()
    {
        return Ok(());
    }
    let instruction = RefundInstruction {
        refund_id: refund.id.clone(),
        payee_account: refund.payee_account.clone(),
        amount_fen: refund.principal_fen + refund.interest_fen,
        currency: refund.currency.clone(),
        memo: format!("Tenderhall refund {} ({})", refund.tender_id, refund.reason),
    };
    match gateway.send_refund(&instruction).await {
        Ok(bank_ref) => {
            use sea_orm::sea_query::Expr;
            let txn = begin_write(db).await?;
            refunds::Entity::update_many()
                .col_expr(refunds::Column::BankRef, Expr::value(bank_ref))
                .col_expr(refunds::Column::InstructedAt, Expr::value(now))
                .filter(refunds::Column::Id.eq(refund_id))
                .filter(refunds::Column::InstructedAt.is_null())
                .exec(&txn)
                .await?;
            // A bank that confirms at once (the sandbox) may have settled it already.
            refunds::Entity::update_many()
                .col_expr(
                    refunds::Column::Status,
                    Expr::value(RefundStatus::Instructed.as_str()),
                )
                .filter(refunds::Column::Id.eq(refund_id))
                .filter(refunds::Column::Status.is_in([
                    RefundStatus::Pending.as_str(),
                    RefundStatus::Failed.as_str(),
                ]))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            Ok(())
        }
        Err(e) => {
            let txn = begin_write(db).await?;
            refunds::Entity::update(refunds::ActiveModel {
                id: Set(refund.id.clone()),
                status: Set(RefundStatus::Failed.as_str().to_owned()),
                last_error: Set(Some(e.to_string())),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            txn.commit().await?;
            // The job fails and is retried with backoff; a dead one waits for an operator.
            Err(DomainError::internal(format!("refund {refund_id}: {e}")))
        }
    }
}

/// What the bank says of a refund it was instructed to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundOutcome {
    Paid,
    Failed,
}

/// The bank's confirmation: a paid refund leaves the bank account (once, however often confirmed);
/// a failed one is queued to be sent again and stays visible to operators.
pub async fn confirm_refund(
    db: &DatabaseConnection,
    refund: &RefundId,
    outcome: RefundOutcome,
    detail: &str,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let txn = begin_write(db).await?;
    let refund = refunds::Entity::find_by_id(refund.as_str().to_owned())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if refund.status == RefundStatus::Confirmed.as_str() {
        txn.rollback().await?;
        return Ok(false);
    }
    let currency: Currency = refund.currency.parse().map_err(DomainError::internal)?;
    let total = refund.principal_fen + refund.interest_fen;
    match outcome {
        RefundOutcome::Paid => {
            post(
                &txn,
                "refund_paid",
                Some(&refund.tender_id),
                &refund.id,
                detail,
                currency,
                &[
                    (refunds_pending(&refund.id), total),
                    (BANK.to_owned(), -total),
                ],
                now,
            )
            .await?;
            refunds::Entity::update(refunds::ActiveModel {
                id: Set(refund.id.clone()),
                status: Set(RefundStatus::Confirmed.as_str().to_owned()),
                confirmed_at: Set(Some(now)),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        RefundOutcome::Failed => {
            let round = u32::try_from(now.timestamp_micros() % 1_000_000_000).unwrap_or(1);
            refunds::Entity::update(refunds::ActiveModel {
                id: Set(refund.id.clone()),
                status: Set(RefundStatus::Failed.as_str().to_owned()),
                last_error: Set(Some(format!("the bank reported it failed: {detail}"))),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
            jobs::enqueue(&txn, send_job(&refund.id, round.max(1), now), now).await?;
        }
    }
    audit::append(
        &txn,
        super::refund::money_entry(
            &txn,
            &refund.tender_id,
            "deposit.refund_confirmed",
            format!("refund:{}", refund.id),
            now,
        )
        .await?
        .details(json!({"outcome": if outcome == RefundOutcome::Paid { "paid" } else { "failed" }, "detail": detail})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// A refund whole, as the platform's own work and the tests read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundView {
    pub id: String,
    pub account_no: String,
    pub tender_id: String,
    pub organization_id: String,
    pub reason: String,
    pub principal_fen: i64,
    pub interest_fen: i64,
    pub status: String,
    pub due_by: DateTime<Utc>,
    pub instructed_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl From<refunds::Model> for RefundView {
    fn from(r: refunds::Model) -> Self {
        Self {
            id: r.id,
            account_no: r.account_no,
            tender_id: r.tender_id,
            organization_id: r.organization_id,
            reason: r.reason,
            principal_fen: r.principal_fen,
            interest_fen: r.interest_fen,
            status: r.status,
            due_by: r.due_by,
            instructed_at: r.instructed_at,
            confirmed_at: r.confirmed_at,
            last_error: r.last_error,
        }
    }
}

/// Refunds of a tender (all) or in a status, whole: for the platform's own work and the tests.
/// Operators see them through [`operator_refunds`].
pub async fn list_refunds(
    db: &DatabaseConnection,
    tender: Option<&TenderId>,
    status: Option<&str>,
) -> DomainResult<Vec<RefundView>> {
    let mut query = refunds::Entity::find();
    if let Some(t) = tender {
        query = query.filter(refunds::Column::TenderId.eq(t.as_str()));
    }
    if let Some(s) = status {
        query = query.filter(refunds::Column::Status.eq(s));
    }
    Ok(query
        .order_by_asc(refunds::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(RefundView::from)
        .collect())
}

/// A refund as an operator sees it. Operators get no more than supervisors (docs/spec/visibility.md): before
/// the tender's bid deadline a refund (an overpayment, a withdrawal) would tell that someone
/// registered and paid (电子招标投标办法 Art 21), so it shows what the bank transfer needs (account,
/// amount, status, the bank's error), never the tender, the organization, the reason, or the times
/// that would date the withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRefund {
    pub id: String,
    pub account_no: String,
    pub tender_id: Option<String>,
    pub organization_id: Option<String>,
    pub reason: Option<String>,
    pub principal_fen: i64,
    pub interest_fen: i64,
    pub status: String,
    pub due_by: Option<DateTime<Utc>>,
    pub instructed_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl OperatorRefund {
    /// `sealed`: the tender's bid deadline has not passed.
    pub fn of(r: RefundView, sealed: bool) -> Self {
        fn shown<T>(sealed: bool) -> impl Fn(T) -> Option<T> {
            move |v| (!sealed).then_some(v)
        }
        let shown_text = shown::<String>(sealed);
        let shown = shown::<DateTime<Utc>>(sealed);
        Self {
            id: r.id,
            account_no: r.account_no,
            tender_id: shown_text(r.tender_id),
            organization_id: shown_text(r.organization_id),
            reason: shown_text(r.reason),
            principal_fen: r.principal_fen,
            interest_fen: r.interest_fen,
            status: r.status,
            due_by: shown(r.due_by),
            instructed_at: r.instructed_at.filter(|_| !sealed),
            confirmed_at: r.confirmed_at.filter(|_| !sealed),
            last_error: r.last_error,
        }
    }
}

/// Refunds for operators, by tender or by status. Listing by a tender whose bid deadline has not
/// passed is refused whatever it holds (409 `deadline_not_passed`): even an empty answer would
/// differ from a full one.
pub async fn operator_refunds(
    db: &DatabaseConnection,
    tender: Option<&TenderId>,
    status: Option<&str>,
    now: DateTime<Utc>,
) -> DomainResult<Vec<OperatorRefund>> {
    if let Some(t) = tender
        && queries::bid_deadline(db, t.as_str())
            .await?
            .is_some_and(|d| now < d)
    {
        return Err(DomainError::Refused {
            code: ErrorCode::DeadlineNotPassed,
            message: Text::new(
                "A tender's refunds are listed by tender after its bid deadline; before it, list them by status.",
                "投标截止前不能按项目列出退款；请按状态列出。",
            ),
        });
    }
    let rows = list_refunds(db, tender, status).await?;
    let mut ids: Vec<String> = rows.iter().map(|r| r.tender_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let deadlines = queries::bid_deadlines(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let sealed = deadlines.get(&r.tender_id).is_none_or(|d| now < *d);
            OperatorRefund::of(r, sealed)
        })
        .collect())
}
