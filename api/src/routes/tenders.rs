//! Tenders (docs/spec/api-contract.md "Tenders"): create and edit drafts, publish, cancel, read, list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::id::TenderId;
use tenderhall_domain::money::{Money, MoneyDto};
use tenderhall_domain::tender::TenderStatus;
use tenderhall_domain::tender::procedure::{Kind, Procedure};
use tenderhall_domain::tender::region::Region;
use tenderhall_domain::tender::service::{
    self as tenders, Lot, Tender, TenderFilter, TenderInput, TenderPatch,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Page, PageQuery, Problem};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Auth, ClientIp, MaybeAuth};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_tender, list_tenders))
        .routes(routes!(get_tender, update_tender))
        .routes(routes!(publish_tender))
        .routes(routes!(cancel_tender))
        .routes(routes!(copy_tender))
        .routes(routes!(check_tender))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    /// Whether publishing it now would pass every check.
    pub publishable: bool,
    /// The shortest period from publication to the bid deadline, in the caller's language.
    pub min_period: Option<String>,
    /// The earliest bid deadline if it were published now.
    pub earliest_bid_deadline: Option<DateTime<Utc>>,
    /// Bids a lot needs to be opened.
    pub min_bids: Option<u32>,
    /// The problem its publication would get now (the same code and sentence).
    #[schema(value_type = Option<Object>)]
    pub refusal: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Check a tender against the publication's rules without saving it (anyone): the guided form
/// shows the legal minimums and the refusal while the tenderer types. A body that does not parse
/// is refused as `POST /api/v1/tenders` refuses it.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/check",
    tag = "tenders",
    request_body = CreateTenderRequest,
    responses((status = 200, body = CheckResponse), (status = 422, description = "`invalid`", body = Problem))
)]
async fn check_tender(
    State(state): State<AppState>,
    lang: crate::extract::Lang,
    ApiJson(input): ApiJson<TenderInput>,
) -> ApiResult<Json<CheckResponse>> {
    let check = tenders::precheck(
        state.db(),
        &input,
        &state.settings().procedures,
        state.settings().sandbox,
        state.now(),
    )
    .await?;
    Ok(Json(CheckResponse {
        publishable: check.refusal.is_none(),
        min_period: check.min_period.map(|p| match lang {
            crate::extract::Lang::Zh => p.zh(),
            crate::extract::Lang::En => p.to_string(),
        }),
        earliest_bid_deadline: check.earliest_deadline,
        min_bids: check.min_bids,
        refusal: check.refusal.map(|e| ApiError::from(e).problem(lang)),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoneyResponse {
    /// Decimal string with the currency's two places, e.g. `"1234.50"`.
    pub amount: String,
    pub currency: String,
}

impl From<Money> for MoneyResponse {
    fn from(m: Money) -> Self {
        let dto = MoneyDto::from(m);
        Self {
            amount: dto.amount,
            currency: dto.currency,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LotResponse {
    pub id: String,
    pub title: String,
    pub budget: MoneyResponse,
    pub deposit: MoneyResponse,
    /// 最高投标限价, published when set (实施条例 Art 27).
    pub price_ceiling: Option<MoneyResponse>,
    /// `active`, `opened`, `failed`, `evaluating`, `awarded`, `cancelled`.
    pub status: String,
    /// The X25519 key bids are sealed to (docs/spec/envelope.md), from publication on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opening_key: Option<OpeningKeyResponse>,
    /// An auction lot's terms (docs/auctions.md); the reserve price itself never, only whether
    /// one is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auction: Option<super::auctions::AuctionTermsResponse>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpeningKeyResponse {
    /// Raw 32 bytes, base64.
    pub public_key: String,
    /// Lowercase hex SHA-256 of the raw key.
    pub key_id: String,
}

impl From<Lot> for LotResponse {
    fn from(l: Lot) -> Self {
        Self {
            id: l.id,
            title: l.title,
            budget: l.budget.into(),
            deposit: l.deposit.into(),
            price_ceiling: l.price_ceiling.map(Into::into),
            status: l.status.as_str().to_owned(),
            opening_key: l.opening_key.map(|k| OpeningKeyResponse {
                public_key: k.public_key,
                key_id: k.key_id,
            }),
            auction: l
                .auction
                .map(|a| super::auctions::AuctionTermsResponse::of(a, l.budget.currency())),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TenderResponse {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub procedure: String,
    pub award_method: String,
    /// `draft`, `active`, `closed`, `awarded`, `complete`, `cancelled`.
    pub status: String,
    /// The tenderer organization (招标人).
    pub tenderer_id: String,
    /// The agency acting for it (招标代理), if any.
    pub agency_id: Option<String>,
    pub lots: Vec<LotResponse>,
    pub document_fee: MoneyResponse,
    pub bid_deadline: DateTime<Utc>,
    /// When questions about the documents close: 10 days (÷ accelerator) before the bid deadline
    /// (实施条例 Art 22), or the deadline itself for shorter procedures. Set once published.
    pub questions_until: Option<DateTime<Utc>>,
    pub bid_validity_days: u32,
    pub opening_fields: Vec<String>,
    /// Sandbox only: legal minimum durations divided by this.
    pub accelerator: u32,
    pub published_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Published with the cancellation.
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The evaluation set-up (docs/spec/evaluation.md): method, compliance checks, criteria and
    /// price formula, published with the tender.
    #[schema(value_type = Option<Object>)]
    pub evaluation: Option<serde_json::Value>,
    /// Where the work is: a GB/T 2260 division code, e.g. `330100`.
    pub region: Option<String>,
}

impl From<Tender> for TenderResponse {
    fn from(t: Tender) -> Self {
        Self {
            id: t.id,
            title: t.title,
            kind: t.kind.as_str().to_owned(),
            procedure: t.procedure.as_str().to_owned(),
            award_method: t.award_method.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            tenderer_id: t.tenderer_org_id,
            agency_id: t.agency_org_id,
            lots: t.lots.into_iter().map(Into::into).collect(),
            document_fee: t.document_fee.into(),
            questions_until: t.published_at.map(|p| {
                tenderhall_domain::tender::question_cutoff(p, t.bid_deadline, t.accelerator)
            }),
            bid_deadline: t.bid_deadline,
            bid_validity_days: t.bid_validity_days,
            opening_fields: t.opening_fields,
            accelerator: t.accelerator,
            published_at: t.published_at,
            cancelled_at: t.cancelled_at,
            cancel_reason: t.cancel_reason,
            created_at: t.created_at,
            updated_at: t.updated_at,
            evaluation: t.evaluation.and_then(|e| serde_json::to_value(e).ok()),
            region: t.region.map(|r| r.as_str().to_owned()),
        }
    }
}

/// Money in a request: `{"amount": "1234.50", "currency": "CNY"}` or the bare amount in CNY.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum MoneyRequest {
    Object {
        amount: String,
        currency: Option<String>,
    },
    Amount(String),
}

#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct LotRequest {
    /// The tenderer's own lot id, unique in the tender.
    pub id: String,
    pub title: String,
    pub budget: MoneyRequest,
    /// At most the procedure's cap (实施条例 Art 26).
    pub deposit: MoneyRequest,
    pub price_ceiling: Option<MoneyRequest>,
    /// Required on lots of `listing`, `auction` and `reverse_auction` procedures (docs/auctions.md).
    pub auction: Option<super::auctions::AuctionTermsRequest>,
}

/// The request body of `POST /api/v1/tenders` (documented shape; parsed by the domain).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CreateTenderRequest {
    pub title: String,
    /// `construction`, `goods`, `services`, `land_use`, `mining_rights`, `property_rights`, `drugs`, `vaccines`.
    pub kind: String,
    /// `open_tender`, `invited_tender`, `competitive_negotiation`, `inquiry`, `reverse_auction`, `listing`, `auction`.
    pub procedure: String,
    /// `lowest_evaluated_price`, `comprehensive_scoring`, `highest_price`.
    pub award_method: String,
    pub lots: Vec<LotRequest>,
    /// Printing and mailing cost only; zero when left out (实施条例 Art 16).
    pub document_fee: Option<MoneyRequest>,
    pub bid_deadline: DateTime<Utc>,
    /// Default 90.
    pub bid_validity_days: Option<u32>,
    /// Extra `price.json` fields shown at the opening.
    pub opening_fields: Option<Vec<String>>,
    /// Sandbox only (403 `sandbox_only` elsewhere): 1 to 1,000,000.
    pub accelerator: Option<u32>,
    /// An agency names the tenderer organization it acts for.
    pub tenderer_id: Option<String>,
    /// The evaluation set-up (docs/spec/evaluation.md): required for `comprehensive_scoring`;
    /// `lowest_evaluated_price` without one ranks by price alone.
    #[schema(value_type = Option<Object>)]
    pub evaluation: Option<serde_json::Value>,
    /// Where the work is: a GB/T 2260 division code such as `330100`.
    pub region: Option<String>,
}

/// Create a draft tender (verified tenderer or agency).
#[utoipa::path(
    post,
    path = "/api/v1/tenders",
    tag = "tenders",
    security(("bearer" = [])),
    request_body = CreateTenderRequest,
    responses(
        (status = 201, body = TenderResponse),
        (status = 401, body = Problem),
        (status = 403, description = "`forbidden`, `org_unverified`, `sandbox_only`", body = Problem),
        (status = 422, description = "`invalid` naming the field", body = Problem),
    )
)]
async fn create_tender(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    ApiJson(input): ApiJson<TenderInput>,
) -> ApiResult<(StatusCode, Json<TenderResponse>)> {
    let tender = tenders::create_draft(
        state.db(),
        state.master_key(),
        &auth.principal,
        input,
        state.settings().sandbox,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(tender.into())))
}

/// Edit a draft (its owner; every field optional, `lots` replaces the whole list).
#[utoipa::path(
    patch,
    path = "/api/v1/tenders/{id}",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = CreateTenderRequest,
    responses(
        (status = 200, body = TenderResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`not_draft`", body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn update_tender(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<TenderPatch>,
) -> ApiResult<Json<TenderResponse>> {
    let tender = tenders::update_draft(
        state.db(),
        state.master_key(),
        &auth.principal,
        &TenderId::parse(&id)?,
        patch,
        state.settings().sandbox,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(tender.into()))
}

/// Publish a draft after the legal checks of its procedure.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/publish",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = TenderResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`not_draft`", body = Problem),
        (status = 422, description = "`period_too_short`, `deposit_too_high`, `procedure_mismatch`, naming the rule and article", body = Problem),
    )
)]
async fn publish_tender(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<TenderResponse>> {
    // An unverified caller is refused (403) before the id is read, whatever it names.
    auth.principal.require_verified()?;
    let tender_id = TenderId::parse(&id)?;
    let settings = state.settings();
    let tender = tenders::publish(
        state.db(),
        &auth.principal,
        &tender_id,
        &settings.procedures,
        state.master_key(),
        settings.sandbox,
        Some(ip),
        state.now(),
    )
    .await?;
    // Its deadline job may be due sooner than anything the runner now waits for.
    state.wake_jobs();
    Ok(Json(tender.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelTenderRequest {
    /// Published with the tender.
    pub reason: String,
}

/// Cancel (终止) a tender with a public reason (its owner).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/cancel",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = CancelTenderRequest,
    responses((status = 200, body = TenderResponse), (status = 404, body = Problem), (status = 409, description = "`not_cancellable`", body = Problem))
)]
async fn cancel_tender(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CancelTenderRequest>,
) -> ApiResult<Json<TenderResponse>> {
    let rate = state.deposits().interest_rate;
    let tender = tenders::cancel(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &req.reason,
        rate,
        Some(ip),
        state.now(),
    )
    .await?;
    // Its refunds are jobs due now.
    state.wake_jobs();
    Ok(Json(tender.into()))
}

/// Tender again (重新招标): a new draft copying a cancelled tender, or the failed lots of one, with
/// the same kind, procedure, money and evaluation set-up (its owner). Set a new deadline, then
/// publish it under the rules in force.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/copy",
    tag = "tenders",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 201, body = TenderResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`nothing_to_retender`", body = Problem),
    )
)]
async fn copy_tender(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<TenderResponse>)> {
    let tender = tenders::copy(
        state.db(),
        state.master_key(),
        &auth.principal,
        &TenderId::parse(&id)?,
        state.settings().sandbox,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(tender.into())))
}

/// A tender: published ones for anyone; a draft for its owner alone (404 to others).
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}",
    security((), ("bearer" = [])),
    tag = "tenders",
    params(("id" = String, Path)),
    responses((status = 200, body = TenderResponse), (status = 404, body = Problem))
)]
async fn get_tender(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<TenderResponse>> {
    Ok(Json(
        tenders::get(state.db(), viewer.as_ref(), &TenderId::parse(&id)?)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenderQuery {
    pub kind: Option<String>,
    pub procedure: Option<String>,
    pub status: Option<String>,
    /// A GB/T 2260 division code: `330000` lists Zhejiang, `330100` Hangzhou.
    pub region: Option<String>,
    /// Words in the title.
    pub q: Option<String>,
    /// `true`: the caller's own tenders, drafts included (signed in).
    pub mine: Option<bool>,
}

pub(crate) fn parse_filter(q: TenderQuery) -> ApiResult<TenderFilter> {
    let kind = q
        .kind
        .map(|k| {
            k.parse::<Kind>().map_err(|e| {
                ApiError::invalid("kind", format!("{e}."), format!("`kind` 无效：{e}。"))
            })
        })
        .transpose()?;
    let procedure = q
        .procedure
        .map(|p| {
            p.parse::<Procedure>().map_err(|e| {
                ApiError::invalid(
                    "procedure",
                    format!("{e}."),
                    format!("`procedure` 无效：{e}。"),
                )
            })
        })
        .transpose()?;
    let status = q
        .status
        .map(|s| {
            TenderStatus::parse(&s).ok_or_else(|| {
                ApiError::invalid(
                    "status",
                    format!("unknown status `{s}`; known: draft, active, closed, awarded, complete, cancelled."),
                    format!("未知状态 `{s}`；可选：draft、active、closed、awarded、complete、cancelled。"),
                )
            })
        })
        .transpose()?;
    let region = q
        .region
        .filter(|r| !r.is_empty())
        .map(|r| {
            Region::parse(&r).map_err(|e| {
                ApiError::invalid(
                    "region",
                    format!("{e}."),
                    "`region` 无效：应为六位行政区划代码（如 330100）。",
                )
            })
        })
        .transpose()?;
    Ok(TenderFilter {
        kind,
        procedure,
        status,
        region,
        q: q.q,
        mine: q.mine.unwrap_or(false),
    })
}

/// Published tenders, newest first, with filters and cursor pagination.
#[utoipa::path(
    get,
    path = "/api/v1/tenders",
    security((), ("bearer" = [])),
    tag = "tenders",
    params(TenderQuery, PageQuery),
    responses((status = 200, body = Page<TenderResponse>), (status = 422, body = Problem))
)]
async fn list_tenders(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    ApiQuery(query): ApiQuery<TenderQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<TenderResponse>>> {
    let filter = parse_filter(query)?;
    let limit = page.limit()?;
    let result = tenders::list(
        state.db(),
        viewer.as_ref(),
        &filter,
        page.cursor.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(Page {
        items: result.items.into_iter().map(Into::into).collect(),
        next_cursor: result.next_cursor,
    }))
}
