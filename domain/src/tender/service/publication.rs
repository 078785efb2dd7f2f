//! A tender from its publication on: publishing it (the checks of the law, the opening keys, the
//! reserves sealed, the auctions and the deadline scheduled), cancelling it, closing it at its
//! deadline, and the publication's checks run beforehand for the guided form.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::{
    Tender, clarify, conflict, load, load_calendar, load_owned, not_draft, record_mandate_use,
};
use crate::account::{Principal, parse_name};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode};
use crate::id::TenderId;
use crate::jobs::{NewJob, service as jobs};
use crate::keys::MasterKey;
use crate::store::begin_write;
use crate::tender::input::{TenderInput, parse_input};
use crate::tender::procedure::ProcedureSettings;
use crate::tender::reserve::reseal_reserve;
use crate::tender::store::{lots, tenders};
use crate::tender::{LotStatus, TenderStatus, check_publication};

/// `lots.reserve_sealed_to` values.
pub(super) const SEALED_TO_MASTER: &str = "master";
const SEALED_TO_OPENING_KEY: &str = "opening_key";

/// At publication, inside its transaction and after the opening keys: each reserve moves from the
/// master key to its lot's opening key, so that it opens only with the lot's bids, at the close.
async fn seal_reserves(
    txn: &impl ConnectionTrait,
    master: &MasterKey,
    tender_id: &str,
) -> DomainResult<()> {
    let rows = lots::Entity::find()
        .filter(lots::Column::TenderId.eq(tender_id))
        .filter(lots::Column::ReserveSealedTo.eq(SEALED_TO_MASTER))
        .all(txn)
        .await?;
    for row in rows {
        let (Some(wrapped), Some(public)) = (&row.reserve_sealed, &row.opening_public_key) else {
            return Err(DomainError::internal("a reserve without its opening key"));
        };
        let public = base64::engine::general_purpose::STANDARD
            .decode(public)
            .map_err(DomainError::internal)?;
        let sealed = reseal_reserve(master, tender_id, &row.lot_id, wrapped, &public)?;
        lots::Entity::update(lots::ActiveModel {
            tender_id: Set(row.tender_id.clone()),
            lot_id: Set(row.lot_id.clone()),
            reserve_sealed: Set(Some(sealed)),
            reserve_sealed_to: Set(Some(SEALED_TO_OPENING_KEY.to_owned())),
            ..Default::default()
        })
        .exec(txn)
        .await?;
    }
    Ok(())
}

/// Publishes a draft after checking it against the law for its kind: the procedure table, the
/// minimum period from now to the deadline, the deposit caps (docs/spec/rules.md).
#[allow(clippy::too_many_arguments)]
pub async fn publish(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    procedures: &ProcedureSettings,
    master: &crate::keys::MasterKey,
    sandbox: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    let id = tender.as_str();
    principal.require_verified()?;
    let calendar = load_calendar(db).await?;
    let txn = begin_write(db).await?;
    let current = load_owned(&txn, principal, tender).await?;
    record_mandate_use(&txn, principal, &current, "tender.publish", ip.clone(), now).await?;
    if current.status != TenderStatus::Draft {
        return Err(not_draft(&current));
    }
    // Parsed again with this server's sandbox flag: a draft made on a sandbox never publishes
    // accelerated on a production server.
    let draft = parse_input(&current.to_input(), sandbox)?;
    let rule = procedures.rule(draft.kind, draft.procedure);
    let setup = check_publication(&draft, rule.as_ref(), &calendar, now)?;
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(id.to_owned()),
        status: Set(TenderStatus::Active.as_str().to_owned()),
        published_at: Set(Some(now)),
        min_bids: Set(rule.as_ref().and_then(|r| i32::try_from(r.min_bids).ok())),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(id),
            &actor,
            "tender.publish",
            format!("tender:{id}"),
        )
        .details(json!({
            "bid_deadline": crate::time::rfc3339(draft.bid_deadline),
            "accelerator": draft.accelerator,
            "min_bids": rule.as_ref().map(|r| r.min_bids),
        })),
        now,
    )
    .await?;
    // Each lot's opening key pair, its public half published with the tender (docs/spec/envelope.md).
    let lot_ids: Vec<String> = draft.lots.iter().map(|l| l.id.clone()).collect();
    crate::bid::keys::create_opening_keys(&txn, master, id, &lot_ids, now).await?;
    seal_reserves(&txn, master, id).await?;
    // Each auction lot's auction, opening at the bid deadline (docs/auctions.md).
    crate::auction::schedule(&txn, id, draft.bid_deadline, now).await?;
    // K of the mean-base formula: committed now, drawn at each lot's opening (docs/spec/evaluation.md).
    if let Some(range) = setup.and_then(|s| s.k_range()) {
        crate::evaluation::service::price_k::commit(&txn, master, id, &lot_ids, range, now).await?;
    }
    // The chronograph: the deadline is a job due at the deadline, enqueued with the publication.
    jobs::enqueue(&txn, deadline_job(id, draft.bid_deadline), now).await?;
    let cutoff = crate::tender::question_cutoff(now, draft.bid_deadline, draft.accelerator);
    if cutoff < draft.bid_deadline {
        jobs::enqueue(&txn, clarify::questions_close_job(id, cutoff), now).await?;
    }
    let tender = load(&txn, id).await?.ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(tender)
}

/// Cancels (终止) a tender with a reason that is published with it. A draft, an active or a closed
/// tender may be cancelled; an awarded or complete one may not.
pub async fn cancel(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    reason: &str,
    interest_rate: rust_decimal::Decimal,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    let id = tender.as_str();
    let reason = parse_name("reason", reason, 2000)?;
    let txn = begin_write(db).await?;
    let current = load_owned(&txn, principal, tender).await?;
    record_mandate_use(&txn, principal, &current, "tender.cancel", ip.clone(), now).await?;
    if !matches!(
        current.status,
        TenderStatus::Draft | TenderStatus::Active | TenderStatus::Closed
    ) {
        return Err(conflict(
            ErrorCode::NotCancellable,
            format!(
                "A tender that is {} cannot be cancelled.",
                current.status.as_str()
            ),
            format!("状态为 {} 的项目不能终止。", current.status.as_str()),
        ));
    }
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(id.to_owned()),
        status: Set(TenderStatus::Cancelled.as_str().to_owned()),
        cancelled_at: Set(Some(now)),
        cancel_reason: Set(Some(reason.clone())),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    lots::Entity::update_many()
        .col_expr(
            lots::Column::Status,
            Expr::value(LotStatus::Cancelled.as_str()),
        )
        .filter(lots::Column::TenderId.eq(id))
        .exec(&txn)
        .await?;
    // Document fees, deposits and their interest go back (实施条例 Art 31), in this transaction.
    let refunds = crate::deposit::service::refund_all(
        &txn,
        tender,
        None,
        crate::deposit::service::RefundReason::Cancelled,
        interest_rate,
        now,
    )
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    let mut open = json!({"reason": reason, "was": current.status.as_str()});
    if now < current.bid_deadline {
        // How many were paid back tells how many registered and paid (电子招标投标办法 Art 21): before
        // the deadline that goes to the sealed chain, withheld until the deadline like the payments.
        let mut sealed = NewEntry::new(
            Chain::tender_sealed(id),
            &actor,
            "tender.cancel_refunds",
            format!("tender:{id}"),
        )
        .details(json!({"refunds": refunds.len()}));
        sealed.withheld_until = Some(current.bid_deadline);
        audit::append(&txn, sealed, now).await?;
    } else {
        open["refunds"] = json!(refunds.len());
    }
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(id),
            &actor,
            "tender.cancel",
            format!("tender:{id}"),
        )
        .details(open),
        now,
    )
    .await?;
    let tender = load(&txn, id).await?.ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(tender)
}

/// The job that closes a tender at its bid deadline.
pub const DEADLINE_JOB: &str = "tender.deadline";

pub(crate) fn deadline_job(tender_id: &str, deadline: DateTime<Utc>) -> NewJob {
    NewJob::new(
        DEADLINE_JOB,
        json!({"tender_id": tender_id}),
        deadline,
        format!("{DEADLINE_JOB}:{tender_id}:{}", deadline.timestamp_micros()),
    )
}

/// At the bid deadline an active tender becomes `closed` (its deadline job). Idempotent: a second
/// run, or a run for a tender cancelled meanwhile or whose deadline moved later, changes nothing.
/// Returns whether this call closed it.
pub async fn close_at_deadline(
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
    if row.status != TenderStatus::Active.as_str() || row.bid_deadline > now {
        txn.rollback().await?;
        return Ok(false);
    }
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(row.id.clone()),
        status: Set(TenderStatus::Closed.as_str().to_owned()),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    // Every lot opens now, each in its own job (docs/spec/receipts-and-records.md "Opening record");
    // an auction lot has no sealed bids to open: its auction opens instead.
    let lot_ids: Vec<String> = lots::Entity::find()
        .filter(lots::Column::TenderId.eq(tender_id))
        .filter(lots::Column::Auction.is_null())
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| l.lot_id)
        .collect();
    for lot_id in &lot_ids {
        jobs::enqueue(
            &txn,
            crate::bid::opening::open_lot_job(tender_id, lot_id, now),
            now,
        )
        .await?;
    }
    // The tender's owners hear of it in the platform and by mail.
    let deadline = row
        .bid_deadline
        .with_timezone(&crate::tender::china_time())
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string();
    let message = crate::notify::tender_closed(&row.title, tender_id, &deadline);
    let object = Some(format!("tender:{tender_id}"));
    let owners = crate::tender::store::queries::owner_organizations(&txn, &row).await?;
    for org in &owners {
        crate::notify::service::notify_organization(
            &txn,
            org,
            "tender.closed",
            object.clone(),
            &message,
            true,
            now,
        )
        .await?;
    }
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender_id),
            &Actor::system(),
            "tender.close",
            format!("tender:{tender_id}"),
        )
        .details(json!({
            "bid_deadline": crate::time::rfc3339(row.bid_deadline),
            "late_by_ms": (now - row.bid_deadline).num_milliseconds(),
        })),
        now,
    )
    .await?;
    // An auction may have closed before this job ran (a dutch price taken at the opening): its
    // lots are decided already, and the tender follows them now.
    crate::evaluation::service::status::settle_tender_in(&txn, tender_id, now).await?;
    txn.commit().await?;
    Ok(true)
}

/// What the law asks of a tender about to be published, and whether this one passes.
#[derive(Debug)]
pub struct Precheck {
    /// The shortest period from publication to the bid deadline for its kind and procedure.
    pub min_period: Option<crate::tender::procedure::Period>,
    /// The earliest bid deadline if it were published now.
    pub earliest_deadline: Option<DateTime<Utc>>,
    /// Bids a lot needs to be opened.
    pub min_bids: Option<u32>,
    /// The refusal its publication would get now, if any.
    pub refusal: Option<DomainError>,
}

/// Runs the publication's checks on `input` without saving anything: the guided form shows the
/// legal minimums and the refusal before the tenderer submits (docs/portal.md "Workbench").
pub async fn precheck(
    db: &DatabaseConnection,
    input: &TenderInput,
    procedures: &ProcedureSettings,
    sandbox: bool,
    now: DateTime<Utc>,
) -> DomainResult<Precheck> {
    let draft = parse_input(input, sandbox)?;
    let calendar = load_calendar(db).await?;
    let rule = procedures.rule(draft.kind, draft.procedure);
    let earliest = rule
        .as_ref()
        .map(|r| crate::tender::earliest_deadline(now, r.min_period, draft.accelerator, &calendar));
    Ok(Precheck {
        min_period: rule.as_ref().map(|r| r.min_period),
        earliest_deadline: earliest,
        min_bids: rule.as_ref().map(|r| r.min_bids),
        refusal: check_publication(&draft, rule.as_ref(), &calendar, now).err(),
    })
}
