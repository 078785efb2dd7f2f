//! Tender use cases: create and edit a draft, publish it, cancel it, read and list tenders, and keep
//! the holiday calendar. Each change is one transaction with its entry on the tender's audit chain.

mod amend;
mod calendar;
mod clarify;
mod copy;
mod documents;
mod query;
mod scrub;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

pub use self::amend::{Amendment, AmendmentInput, list_amendments, publish_amendment};
pub use self::calendar::{
    CalendarDay, calendar_days, load_calendar, period_end, seed_calendar, set_calendar_day,
};
pub use self::clarify::{
    QUESTIONS_CLOSE_JOB, Question, answer_question, ask_question, close_questions, list_questions,
};
pub use self::copy::copy;
pub use self::documents::{
    Document, DownloadRecord, NewDocument, add_document, check_can_add_document, clean_filename,
    download, downloads, list_documents, servable_content_type,
};
pub(crate) use self::query::load;
pub use self::query::{Lot, Tender, TenderFilter, TenderPage, get, list};
pub use self::scrub::{
    SCRUB_JOB, ScrubFinding, ScrubReport, next_scrub_time, schedule_scrub, scrub, scrub_job,
};
use super::input::invalid;
pub use super::input::{LotInput, TenderInput, TenderPatch, parse_input};
use super::procedure::ProcedureSettings;
use super::store::{lots, tenders};
use super::{LotStatus, TenderDraft, TenderStatus, check_publication};
use crate::account::{OrganizationKind, Principal, parse_name};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::TenderId;
use crate::jobs::{NewJob, service as jobs};
use crate::keys::MasterKey;
use crate::money::Money;
use crate::store::begin_write;
use crate::tender::auction::{reseal_reserve, wrap_reserve};
use base64::Engine as _;

fn fen(m: Money) -> DomainResult<i64> {
    m.minor_units().map_err(DomainError::internal)
}

/// Loads a tender for its owner, locked for the change; anyone else gets `NotFound` (a draft is
/// its owner's alone, and a stranger learns nothing from the answer).
pub(crate) async fn load_owned(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    tender: &TenderId,
) -> DomainResult<Tender> {
    let id = tender.as_str();
    tenders::Entity::find_by_id(id.to_owned())
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let tender = load(txn, id).await?.ok_or(DomainError::NotFound)?;
    if tender.is_owned_by(principal) {
        Ok(tender)
    } else if tender.acted_for_by(principal) {
        // The agency's mandate was revoked: it knows the tender, so it is told why.
        Err(crate::mandate::no_mandate(&tender.tenderer_org_id))
    } else {
        Err(DomainError::NotFound)
    }
}

/// Records, in the caller's transaction, that an agency acted on the tender under its mandate
/// (nothing when the tenderer acts itself).
pub(crate) async fn record_mandate_use(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    tender: &Tender,
    action: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let parties = crate::mandate::service::Parties {
        tender_id: &tender.id,
        tenderer_org_id: &tender.tenderer_org_id,
        agency_org_id: tender.agency_org_id.as_deref(),
    };
    crate::mandate::service::act_under(txn, principal, parties, action, ip, now).await?;
    Ok(())
}

/// Writes the draft's lots, replacing those stored. An auction lot's reserve is wrapped under the
/// master key: a draft has no opening key yet (docs/auctions.md "The reserve and the result").
async fn write_lots(
    txn: &impl ConnectionTrait,
    master: &MasterKey,
    tender_id: &str,
    draft: &TenderDraft,
    status: LotStatus,
) -> DomainResult<()> {
    lots::Entity::delete_many()
        .filter(lots::Column::TenderId.eq(tender_id))
        .exec(txn)
        .await?;
    for (position, lot) in draft.lots.iter().enumerate() {
        let auction = lot
            .auction
            .as_ref()
            .map(|a| serde_json::to_string(&a.public()))
            .transpose()
            .map_err(DomainError::internal)?;
        let reserve = lot
            .auction
            .as_ref()
            .and_then(|a| a.reserve)
            .map(|r| wrap_reserve(master, tender_id, &lot.id, r))
            .transpose()?;
        lots::Entity::insert(lots::ActiveModel {
            tender_id: Set(tender_id.to_owned()),
            lot_id: Set(lot.id.clone()),
            position: Set(i32::try_from(position).map_err(DomainError::internal)?),
            title: Set(lot.title.clone()),
            budget_fen: Set(fen(lot.budget)?),
            deposit_fen: Set(fen(lot.deposit)?),
            price_ceiling_fen: Set(lot.price_ceiling.map(fen).transpose()?),
            status: Set(status.as_str().to_owned()),
            opening_public_key: Set(None),
            reserve_sealed_to: Set(reserve.as_ref().map(|_| SEALED_TO_MASTER.to_owned())),
            reserve_sealed: Set(reserve),
            auction: Set(auction),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// `lots.reserve_sealed_to` values.
const SEALED_TO_MASTER: &str = "master";
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

fn conflict(code: ErrorCode, en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::Refused {
        code,
        message: Text::new(en, zh),
    }
}

fn not_draft(t: &Tender) -> DomainError {
    conflict(
        ErrorCode::NotDraft,
        format!(
            "The tender is {}, no longer a draft: it cannot be changed this way.",
            t.status.as_str()
        ),
        format!(
            "该项目状态为 {}，已不是草稿，不能这样修改。",
            t.status.as_str()
        ),
    )
}
/// The set-up as stored: the JSON the tenderer sent, re-serialized.
fn evaluation_json(draft: &crate::tender::TenderDraft) -> DomainResult<Option<String>> {
    draft
        .evaluation
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(DomainError::internal)
}

/// A tenderer or agency (verified) creates a draft. An agency names the tenderer organization it
/// acts for, and the tender records both.
pub async fn create_draft(
    db: &DatabaseConnection,
    master: &MasterKey,
    principal: &Principal,
    input: TenderInput,
    sandbox: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    create_draft_copying(db, master, principal, input, sandbox, None, ip, now).await
}

/// The same, recording in its `tender.create` entry the tender it copies, if any.
#[allow(clippy::too_many_arguments)]
pub(super) async fn create_draft_copying(
    db: &DatabaseConnection,
    master: &MasterKey,
    principal: &Principal,
    input: TenderInput,
    sandbox: bool,
    copied_from: Option<&str>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    let membership = principal
        .require_kind(&[OrganizationKind::Tenderer, OrganizationKind::Agency])?
        .clone();
    let draft = parse_input(&input, sandbox)?;
    let own = membership.organization_id.to_string();
    let (tenderer, agency) = match membership.kind {
        OrganizationKind::Agency => {
            let Some(tenderer_id) = input.tenderer_id.as_deref() else {
                return Err(invalid(
                    "tenderer_id",
                    "An agency names the tenderer organization it acts for in `tenderer_id`.",
                    "招标代理机构须在 `tenderer_id` 中注明委托的招标人机构。",
                ));
            };
            let org = crate::account::store::queries::organization(db, tenderer_id).await?;
            if org.is_none_or(|o| o.kind != OrganizationKind::Tenderer.as_str()) {
                return Err(invalid(
                    "tenderer_id",
                    "`tenderer_id` must name a tenderer organization on the platform.",
                    "`tenderer_id` 须为平台上的招标人机构。",
                ));
            }
            // 委托代理: an agency acts for a tenderer only under its current mandate.
            if crate::mandate::store::current(db, tenderer_id, &own)
                .await?
                .is_none()
            {
                return Err(crate::mandate::no_mandate(tenderer_id));
            }
            (tenderer_id.to_owned(), Some(own.clone()))
        }
        _ => {
            if input.tenderer_id.as_deref().is_some_and(|t| t != own) {
                return Err(invalid(
                    "tenderer_id",
                    "A tenderer creates tenders for itself; leave out `tenderer_id`.",
                    "招标人只能为本机构创建项目，请勿填写 `tenderer_id`。",
                ));
            }
            (own.clone(), None)
        }
    };
    let id = TenderId::generate().to_string();
    let txn = begin_write(db).await?;
    tenders::Entity::insert(tenders::ActiveModel {
        id: Set(id.clone()),
        owner_org_id: Set(own),
        tenderer_org_id: Set(tenderer),
        agency_org_id: Set(agency),
        title: Set(draft.title.clone()),
        kind: Set(draft.kind.as_str().to_owned()),
        procedure: Set(draft.procedure.as_str().to_owned()),
        award_method: Set(draft.award_method.as_str().to_owned()),
        document_fee_fen: Set(fen(draft.document_fee)?),
        currency: Set(draft.document_fee.currency().code().to_owned()),
        bid_deadline: Set(draft.bid_deadline),
        bid_validity_days: Set(
            i32::try_from(draft.bid_validity_days).map_err(DomainError::internal)?
        ),
        opening_fields: Set(
            serde_json::to_string(&draft.opening_fields).map_err(DomainError::internal)?
        ),
        accelerator: Set(i32::try_from(draft.accelerator).map_err(DomainError::internal)?),
        status: Set(TenderStatus::Draft.as_str().to_owned()),
        published_at: Set(None),
        cancelled_at: Set(None),
        cancel_reason: Set(None),
        created_by: Set(principal.account_id.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        questions_closed_at: Set(None),
        min_bids: Set(None),
        evaluation: Set(evaluation_json(&draft)?),
        region: Set(draft.region.as_ref().map(|r| r.as_str().to_owned())),
    })
    .exec_without_returning(&txn)
    .await?;
    write_lots(&txn, master, &id, &draft, LotStatus::Active).await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(Chain::tender(&id), &actor, "tender.create", format!("tender:{id}"))
            .details(json!({"title": draft.title, "kind": draft.kind.as_str(), "procedure": draft.procedure.as_str(), "lots": draft.lots.len(), "copied_from": copied_from})),
        now,
    )
    .await?;
    let tender = load(&txn, &id)
        .await?
        .ok_or_else(|| DomainError::internal("created tender vanished"))?;
    record_mandate_use(
        &txn,
        principal,
        &tender,
        "tender.create",
        actor.ip.clone(),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(tender)
}

/// Edits a draft; only its owner, only while it is a draft.
#[allow(clippy::too_many_arguments)]
pub async fn update_draft(
    db: &DatabaseConnection,
    master: &MasterKey,
    principal: &Principal,
    tender: &TenderId,
    patch: TenderPatch,
    sandbox: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    let id = tender.as_str();
    let txn = begin_write(db).await?;
    let current = load_owned(&txn, principal, tender).await?;
    record_mandate_use(&txn, principal, &current, "tender.update", ip.clone(), now).await?;
    if current.status != TenderStatus::Draft {
        return Err(not_draft(&current));
    }
    let mut input = current.to_input();
    let mut changed = Vec::new();
    macro_rules! apply {
        ($($field:ident),+) => {$(
            if let Some(value) = patch.$field {
                input.$field = value.into();
                changed.push(stringify!($field));
            }
        )+};
    }
    let lots_changed = patch.lots.is_some();
    apply!(title, kind, procedure, award_method, lots, bid_deadline);
    if let Some(fee) = patch.document_fee {
        input.document_fee = Some(fee);
        changed.push("document_fee");
    }
    if let Some(days) = patch.bid_validity_days {
        input.bid_validity_days = Some(days);
        changed.push("bid_validity_days");
    }
    if let Some(fields) = patch.opening_fields {
        input.opening_fields = Some(fields);
        changed.push("opening_fields");
    }
    if let Some(accelerator) = patch.accelerator {
        input.accelerator = Some(accelerator);
        changed.push("accelerator");
    }
    if let Some(evaluation) = patch.evaluation {
        input.evaluation = Some(evaluation);
        changed.push("evaluation");
    }
    if let Some(region) = patch.region {
        input.region = Some(region);
        changed.push("region");
    }
    let draft = parse_input(&input, sandbox)?;
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(id.to_owned()),
        title: Set(draft.title.clone()),
        kind: Set(draft.kind.as_str().to_owned()),
        procedure: Set(draft.procedure.as_str().to_owned()),
        award_method: Set(draft.award_method.as_str().to_owned()),
        document_fee_fen: Set(fen(draft.document_fee)?),
        bid_deadline: Set(draft.bid_deadline),
        bid_validity_days: Set(
            i32::try_from(draft.bid_validity_days).map_err(DomainError::internal)?
        ),
        opening_fields: Set(
            serde_json::to_string(&draft.opening_fields).map_err(DomainError::internal)?
        ),
        accelerator: Set(i32::try_from(draft.accelerator).map_err(DomainError::internal)?),
        evaluation: Set(evaluation_json(&draft)?),
        region: Set(draft.region.as_ref().map(|r| r.as_str().to_owned())),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    // Lots not in the patch stay as stored, their sealed reserves with them: what `to_input`
    // gave back carries no reserve.
    if lots_changed {
        write_lots(&txn, master, id, &draft, LotStatus::Active).await?;
    }
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(id),
            &actor,
            "tender.update",
            format!("tender:{id}"),
        )
        .details(json!({"changed": changed})),
        now,
    )
    .await?;
    let tender = load(&txn, id).await?.ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(tender)
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
    let cutoff = super::question_cutoff(now, draft.bid_deadline, draft.accelerator);
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

fn deadline_job(tender_id: &str, deadline: DateTime<Utc>) -> NewJob {
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
        .with_timezone(&super::china_time())
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
        .map(|r| super::earliest_deadline(now, r.min_period, draft.accelerator, &calendar));
    Ok(Precheck {
        min_period: rule.as_ref().map(|r| r.min_period),
        earliest_deadline: earliest,
        min_bids: rule.as_ref().map(|r| r.min_bids),
        refusal: check_publication(&draft, rule.as_ref(), &calendar, now).err(),
    })
}
