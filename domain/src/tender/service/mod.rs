//! Tender use cases: create and edit a draft, publish it, cancel it, read and list tenders, and keep
//! the holiday calendar. Each change is one transaction with its entry on the tender's audit chain.

mod amend;
mod calendar;
mod clarify;
mod copy;
mod documents;
mod publication;
mod query;
mod scrub;

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
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
use self::publication::SEALED_TO_MASTER;
pub(crate) use self::publication::deadline_job;
pub use self::publication::{DEADLINE_JOB, Precheck, cancel, close_at_deadline, precheck, publish};
pub(crate) use self::query::load;
pub use self::query::{Lot, Tender, TenderFilter, TenderPage, get, list};
pub use self::scrub::{
    SCRUB_JOB, ScrubFinding, ScrubReport, next_scrub_time, schedule_scrub, scrub, scrub_job,
};
use super::input::invalid;
pub use super::input::{LotInput, TenderInput, TenderPatch, parse_input};
use super::store::{lots, tenders};
use super::{LotStatus, TenderDraft, TenderStatus};
use crate::account::{OrganizationKind, Principal};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::TenderId;
use crate::keys::MasterKey;
use crate::money::Money;
use crate::store::begin_write;
use crate::tender::reserve::wrap_reserve;

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
