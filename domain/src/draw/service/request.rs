//! Requesting a draw (docs/spec/draws.md "Request"): the owner asks for seats per specialty and
//! region, plus reserves; the platform checks the committee's size and the window, reads the pool,
//! sorts it by the avoidance rules, and commits to its secret and the pool before anything it
//! cannot choose is known.

use chrono::{DateTime, Months, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use tenderhall_model::expert::committee::{Panel, SizeRefusal};
use tenderhall_model::expert::draw::{SeatGroup, commitment};
use tenderhall_model::expert::{Parties, RepeatLimit, Specialty, eligibility};

use super::{DrawContext, draw_day, seconds, secret_context};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::draw::store::{draw_candidates, draws};
use crate::draw::{DrawStatus, INPUT_JOB, accelerated};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{DrawId, TenderId};
use crate::jobs::{NewJob, service as jobs};
use crate::store::begin_write;
use crate::store::rows::Inserts;
use crate::tender::TenderStatus;
use crate::tender::procedure::{Kind, Procedure};
use crate::tender::service::{Tender, load_owned, record_mandate_use};

/// At most this many seat groups in one draw.
const MAX_GROUPS: usize = 10;
/// At most this many reserves.
const MAX_RESERVES: u32 = 20;

/// What the owner asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawRequest {
    pub seats: Vec<SeatGroup>,
    pub reserves: u32,
    /// Government procurement declared complex (技术复杂、专业性强): 7 or more seats.
    pub complex: bool,
}

fn invalid_seats(en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::invalid("seats", en, zh)
}

/// Checks the request's shape: its groups, codes and counts.
fn check_request(request: &DrawRequest) -> DomainResult<u32> {
    if request.seats.is_empty() || request.seats.len() > MAX_GROUPS {
        return Err(invalid_seats(
            format!("Ask for 1 to {MAX_GROUPS} groups of seats."),
            format!("席位组应为 1 至 {MAX_GROUPS} 组。"),
        ));
    }
    let mut total = 0u32;
    for group in &request.seats {
        if Specialty::parse(&group.specialty).is_none() {
            return Err(DomainError::invalid(
                "seats.specialty",
                format!(
                    "`{}` is not a specialty code such as A01.02 (upper-case letters and digits, dots between levels).",
                    group.specialty
                ),
                format!("`{}` 不是专业代码（如 A01.02）。", group.specialty),
            ));
        }
        if let Some(region) = &group.region
            && (region.is_empty()
                || region.len() > 32
                || !region.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(DomainError::invalid(
                "seats.region",
                "A region is a code of 1 to 32 letters and digits, such as 330100.",
                "地区应为 1 至 32 位字母或数字代码，如 330100。",
            ));
        }
        if group.count == 0 || group.count > 99 {
            return Err(DomainError::invalid(
                "seats.count",
                "Each group has 1 to 99 seats.",
                "每组席位数应为 1 至 99。",
            ));
        }
        total += group.count;
    }
    if request.reserves > MAX_RESERVES {
        return Err(DomainError::invalid(
            "reserves",
            format!("Ask for at most {MAX_RESERVES} reserves."),
            format!("候补人数最多 {MAX_RESERVES} 名。"),
        ));
    }
    Ok(total)
}

/// The panel the tender's procedure convenes, if any.
fn panel(tender: &Tender, budget_fen: i64, complex: bool) -> DomainResult<Panel> {
    match (tender.procedure, tender.kind) {
        (Procedure::Listing | Procedure::Auction | Procedure::ReverseAuction, _) => {
            Err(DomainError::refused(
                ErrorCode::NoCommittee,
                format!(
                    "A {} convenes no evaluation committee: the price decides.",
                    tender.procedure
                ),
                "拍卖、挂牌和反向竞价不组建评标委员会，由价格决定。",
            ))
        }
        (Procedure::CompetitiveNegotiation | Procedure::Inquiry, _) => {
            Ok(Panel::NegotiationOrInquiry)
        }
        (_, Kind::Goods | Kind::Services) => Ok(Panel::GovernmentProcurement {
            budget_fen,
            complex,
        }),
        _ => Ok(Panel::Tender),
    }
}

fn size_refusal(refusal: SizeRefusal, seats: u32) -> DomainError {
    let SizeRefusal {
        minimum,
        too_small,
        article,
    } = refusal;
    if too_small {
        DomainError::refused(
            ErrorCode::CommitteeTooSmall,
            format!(
                "{seats} seats are too few: this committee has at least {minimum} members, an odd number ({article})."
            ),
            format!("{seats} 个席位不足：该评标委员会至少 {minimum} 人且为单数（{article}）。"),
        )
    } else {
        DomainError::refused(
            ErrorCode::CommitteeSizeEven,
            format!(
                "{seats} seats is an even number: a committee has an odd number of members, at least {minimum} ({article})."
            ),
            format!(
                "{seats} 为双数：评标委员会成员人数须为单数，且至少 {minimum} 人（{article}）。"
            ),
        )
    }
}

/// Requests a draw for a lot (its owner only): 201 with the commitment. Refused with a code naming
/// the rule when the seats break the committee's size, before the window, or while the lot has a
/// draw that did not run out of experts.
#[allow(clippy::too_many_arguments)]
pub async fn request_draw(
    db: &DatabaseConnection,
    ctx: DrawContext<'_>,
    principal: &Principal,
    tender_id: &TenderId,
    lot_id: &str,
    request: DrawRequest,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<draws::Model> {
    let total = check_request(&request)?;
    let txn = begin_write(db).await?;
    let tender = load_owned(&txn, principal, tender_id).await?;
    let lot = tender
        .lots
        .iter()
        .find(|l| l.id == lot_id)
        .ok_or(DomainError::NotFound)?;
    if !matches!(tender.status, TenderStatus::Active | TenderStatus::Closed) {
        return Err(DomainError::refused(
            ErrorCode::TenderNotActive,
            "Experts are drawn for a published tender that is not cancelled or awarded.",
            "仅可为已发布且未终止、未定标的项目抽取专家。",
        ));
    }
    panel(
        &tender,
        lot.budget.minor_units().map_err(DomainError::internal)?,
        request.complex,
    )?
    .check(total)
    .map_err(|refusal| size_refusal(refusal, total))?;
    let accelerator = i32::try_from(tender.accelerator).unwrap_or(i32::MAX);
    let opens = tender.bid_deadline - accelerated(ctx.settings.window, accelerator);
    if now < opens {
        return Err(DomainError::Refused {
            code: ErrorCode::DrawWindowNotOpen,
            message: Text::new(
                format!(
                    "Experts may be drawn from {} on, {} hours before the bid deadline.",
                    crate::time::rfc3339(opens),
                    ctx.settings.window.num_hours()
                ),
                format!(
                    "专家抽取自 {} 起方可进行（投标截止前 {} 小时）。",
                    crate::time::rfc3339(opens),
                    ctx.settings.window.num_hours()
                ),
            ),
        });
    }
    let running = draws::Entity::find()
        .filter(draws::Column::TenderId.eq(tender.id.clone()))
        .filter(draws::Column::LotId.eq(lot_id))
        .filter(draws::Column::Status.ne(DrawStatus::Exhausted.as_str()))
        .one(&txn)
        .await?;
    if running.is_some() {
        return Err(DomainError::refused(
            ErrorCode::DrawExists,
            "This lot has a draw already; a new one may be requested only after a draw ran out of experts.",
            "该标段已有专家抽取；仅当抽取人数不足时方可重新申请。",
        ));
    }
    record_mandate_use(&txn, principal, &tender, "draw.request", ip.clone(), now).await?;

    // The pool and who it must avoid, read in this transaction.
    let on = draw_day(now);
    let limit = RepeatLimit {
        max_evaluations: ctx.settings.max_evaluations_per_tenderer,
        months: ctx.settings.repeat_months,
    };
    let since = now
        .checked_sub_months(Months::new(limit.months))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let parties = parties(&txn, &tender, lot_id).await?;
    let wanted: Vec<Specialty> = request
        .seats
        .iter()
        .filter_map(|g| Specialty::parse(&g.specialty))
        .collect();
    let mut pool = crate::expert::store::queries::candidates(&txn, &wanted, on).await?;
    let repeats =
        crate::draw::store::queries::evaluations_for_tenderer(&txn, &tender.tenderer_org_id, since)
            .await?;
    for candidate in &mut pool {
        candidate.recent_evaluations_for_tenderer =
            repeats.get(&candidate.expert_id).copied().unwrap_or(0);
    }
    let sorted = eligibility(&pool, &request.seats, &parties, limit, on);

    // The commitment: the secret's hash and the pool snapshot's.
    let mut secret = [0u8; 32];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| DomainError::internal("random generator failed"))?;
    let draw_id = DrawId::generate().to_string();
    let snapshot: Vec<serde_json::Value> = sorted
        .eligible
        .iter()
        .map(|id| {
            let s = &sorted.seatable[id];
            json!({"expert_id": id, "eligible": true, "employer": s.employer, "fills": s.fills})
        })
        .chain(sorted.excluded.iter().map(
            |(id, reason)| json!({"expert_id": id, "eligible": false, "reason": reason.as_str()}),
        ))
        .collect();
    let pool_hash = hex::encode(ring::digest::digest(
        &ring::digest::SHA256,
        to_canonical_string(&json!({
            "draw_id": draw_id,
            "day": on.to_string(),
            "seats": request.seats,
            "reserves": request.reserves,
            "candidates": snapshot,
        }))
        .as_bytes(),
    ));
    let input_deadline = now + accelerated(ctx.settings.contribution_window, accelerator);
    let opening = crate::bid::store::queries::opening_record(&txn, &tender.id, lot_id).await?;
    let model = draws::Model {
        id: draw_id.clone(),
        tender_id: tender.id.clone(),
        lot_id: lot_id.to_owned(),
        requested_by: principal.account_id.to_string(),
        status: DrawStatus::AwaitingInput.as_str().to_owned(),
        seats: serde_json::to_string(&request.seats).map_err(DomainError::internal)?,
        seats_total: i32::try_from(total).unwrap_or(i32::MAX),
        reserves: i32::try_from(request.reserves).unwrap_or(0),
        commitment: commitment(&secret),
        secret_sealed: ctx
            .master
            .wrap(&secret, &secret_context(&draw_id))
            .map_err(DomainError::internal)?,
        pool_hash,
        // After the opening the lot's opening record stands in: the platform fixed it before.
        public_input: opening.map(|record| {
            format!(
                "opening:{}",
                hex::encode(ring::digest::digest(
                    &ring::digest::SHA256,
                    record.as_bytes()
                ))
            )
        }),
        input_deadline,
        invite_seconds: seconds(accelerated(ctx.settings.invitation_validity, accelerator)),
        created_at: now,
        completed_at: None,
        final_at: None,
    };
    let mut inserts = Inserts::new(&txn);
    inserts.add(vec![draws::ActiveModel {
        id: Set(model.id.clone()),
        tender_id: Set(model.tender_id.clone()),
        lot_id: Set(model.lot_id.clone()),
        requested_by: Set(model.requested_by.clone()),
        status: Set(model.status.clone()),
        seats: Set(model.seats.clone()),
        seats_total: Set(model.seats_total),
        reserves: Set(model.reserves),
        commitment: Set(model.commitment.clone()),
        secret_sealed: Set(model.secret_sealed.clone()),
        pool_hash: Set(model.pool_hash.clone()),
        public_input: Set(None),
        input_deadline: Set(model.input_deadline),
        invite_seconds: Set(model.invite_seconds),
        created_at: Set(now),
        completed_at: Set(None),
        final_at: Set(None),
    }])?;
    let candidates = sorted
        .eligible
        .iter()
        .map(|id| {
            let s = &sorted.seatable[id];
            Ok(draw_candidates::ActiveModel {
                draw_id: Set(draw_id.clone()),
                expert_id: Set(id.clone()),
                eligible: Set(true),
                reason: Set(None),
                employer: Set(s.employer.clone()),
                fills: Set(serde_json::to_string(&s.fills).map_err(DomainError::internal)?),
            })
        })
        .chain(sorted.excluded.iter().map(|(id, reason)| {
            Ok(draw_candidates::ActiveModel {
                draw_id: Set(draw_id.clone()),
                expert_id: Set(id.clone()),
                eligible: Set(false),
                reason: Set(Some(reason.as_str().to_owned())),
                employer: Set(pool
                    .iter()
                    .find(|c| &c.expert_id == id)
                    .map(|c| c.employer.clone())
                    .unwrap_or_default()),
                fills: Set("[]".to_owned()),
            })
        }))
        .collect::<DomainResult<Vec<_>>>()?;
    inserts.add(candidates)?;
    inserts.run(&txn).await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&tender.id),
            &Actor::account(principal.account_id.as_str(), ip),
            "draw.request",
            format!("draw:{draw_id}"),
        )
        .details(json!({
            "lot_id": lot_id,
            "seats": request.seats,
            "reserves": request.reserves,
            "commitment": model.commitment,
            "pool_hash": model.pool_hash,
        })),
        now,
    )
    .await?;
    if model.public_input.is_some() {
        super::input::set_input(&txn, ctx, &model, model.public_input.clone(), now).await?;
    } else {
        jobs::enqueue(
            &txn,
            NewJob::new(
                INPUT_JOB,
                json!({"draw_id": draw_id}),
                input_deadline,
                format!("{INPUT_JOB}:{draw_id}"),
            ),
            now,
        )
        .await?;
    }
    let stored = super::lock(&txn, &draw_id).await?;
    txn.commit().await?;
    Ok(stored)
}

/// Who the draw must avoid: the tenderer, its agency and the lot's registered bidders (known to
/// the platform even while secret), and the supervising organizations, by credit code.
async fn parties(
    txn: &impl ConnectionTrait,
    tender: &Tender,
    lot_id: &str,
) -> DomainResult<Parties> {
    let mut interested = vec![tender.tenderer_org_id.clone()];
    interested.extend(tender.agency_org_id.clone());
    interested.extend(
        crate::deposit::store::queries::registered_organizations_of_lot(txn, &tender.id, lot_id)
            .await?,
    );
    Ok(Parties {
        interested: crate::account::store::queries::credit_codes(txn, interested)
            .await?
            .into_iter()
            .collect(),
        supervisors: crate::account::store::queries::supervisor_credit_codes(txn)
            .await?
            .into_iter()
            .collect(),
    })
}
