//! Reading the audit log (docs/spec/visibility.md: supervisors read a tender's log, with entries
//! about bids withheld until the deadline) and the latest signed head (public).

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tenderhall_domain::audit::service::{latest_head, visible_entries};
use tenderhall_domain::audit::{Chain, Entry};
use tenderhall_domain::id::TenderId;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Page, PageQuery, Problem};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiQuery, Auth};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(latest_signed_head))
        .routes(routes!(signed_head))
        .routes(routes!(platform_log))
        .routes(routes!(tender_log))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryResponse {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// The account (or `cli`, `system`) that acted.
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub object: String,
    pub details: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl From<Entry> for AuditEntryResponse {
    fn from(e: Entry) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            ip: e.ip,
            action: e.action,
            object: e.object,
            details: serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null),
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedHeadResponse {
    pub seq: i64,
    pub signed_at: DateTime<Utc>,
    /// Lowercase hex SHA-256 of the head's body, which commits to every earlier head.
    pub digest: String,
    pub key_id: String,
    /// Ed25519 (base64) over the UTF-8 bytes `tenderhall/audit-head/v1|{digest}`.
    pub signature: String,
}

/// The latest signed head of the audit chains: keep it to detect a rewritten history later.
#[utoipa::path(
    get,
    path = "/api/v1/audit/heads/latest",
    tag = "audit",
    responses((status = 200, body = SignedHeadResponse), (status = 404, description = "no head signed yet", body = Problem))
)]
async fn latest_signed_head(State(state): State<AppState>) -> ApiResult<Json<SignedHeadResponse>> {
    let head = latest_head(state.db())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(SignedHeadResponse {
        seq: head.seq,
        signed_at: head.signed_at,
        digest: head.digest,
        key_id: head.key_id,
        signature: head.signature,
    }))
}

/// A signed head by its sequence number (public, as the latest is): a draw's public input may name
/// one (docs/spec/draws.md).
#[utoipa::path(
    get,
    path = "/api/v1/audit/heads/{seq}",
    tag = "audit",
    params(("seq" = i64, Path)),
    responses((status = 200, body = SignedHeadResponse), (status = 404, body = Problem))
)]
async fn signed_head(
    State(state): State<AppState>,
    Path(seq): Path<String>,
) -> ApiResult<Json<SignedHeadResponse>> {
    let seq: i64 = seq.parse().map_err(|_| ApiError::not_found())?;
    let head = tenderhall_domain::audit::service::head_at(state.db(), seq)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(SignedHeadResponse {
        seq: head.seq,
        signed_at: head.signed_at,
        digest: head.digest,
        key_id: head.key_id,
        signature: head.signature,
    }))
}

async fn read_chain(
    state: &AppState,
    chain: &Chain,
    page: &PageQuery,
) -> ApiResult<Json<Page<AuditEntryResponse>>> {
    let limit = page.limit()?;
    let after = match &page.cursor {
        None => 0,
        Some(c) => c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::invalid(
                "cursor",
                "`cursor` must be a `next_cursor` from a previous page.",
                "`cursor` 须为上一页返回的 `next_cursor`。",
            )
        })?,
    };
    let entries = visible_entries(state.db(), chain.as_str(), state.now(), after, limit).await?;
    let next_cursor = (entries.len() as u64 == limit)
        .then(|| entries.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(Page {
        items: entries.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// The platform-level audit chain: accounts, organizations, keys (operators and supervisors).
#[utoipa::path(
    get,
    path = "/api/v1/audit/platform",
    tag = "audit",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<AuditEntryResponse>), (status = 403, body = Problem))
)]
async fn platform_log(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<AuditEntryResponse>>> {
    if !(auth.principal.is_operator || auth.principal.is_supervisor()) {
        return Err(tenderhall_domain::DomainError::forbidden(
            "Only operators and supervisors may read the platform log.",
            "只有平台运营人员和监督人员可以查看平台日志。",
        )
        .into());
    }
    read_chain(&state, &Chain::platform(), &page).await
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenderLogQuery {
    /// `sealed`: the tender's second chain, of who downloaded, registered and bid: empty until the bid
    /// deadline passes (电子招标投标办法 Art 21). Left out: the tender's own chain.
    pub chain: Option<String>,
}

/// A tender's audit chains (supervisors). Entries that would tell who downloaded, registered or
/// bid sit on the `sealed` chain and stay withheld until the bid deadline (电子招标投标办法 Art 21).
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/audit",
    tag = "audit",
    security(("bearer" = [])),
    params(("id" = String, Path), TenderLogQuery, PageQuery),
    responses((status = 200, body = Page<AuditEntryResponse>), (status = 403, body = Problem))
)]
async fn tender_log(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiQuery(which): ApiQuery<TenderLogQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<AuditEntryResponse>>> {
    if !auth.principal.is_supervisor() {
        return Err(tenderhall_domain::DomainError::forbidden(
            "Only supervisors may read a tender's audit log.",
            "只有监督人员可以查看项目的审计日志。",
        )
        .into());
    }
    let tender_id = TenderId::parse(&id)?;
    let chain = match which.chain.as_deref() {
        None | Some("tender") => Chain::tender(tender_id.as_str()),
        Some("sealed") => {
            // Entries carry the deadline they were written under; an amendment may have moved it
            // later since. The chain stays closed until the deadline in force now.
            let tender = tenderhall_domain::tender::service::get(
                state.db(),
                Some(&auth.principal),
                &tender_id,
            )
            .await?;
            if state.now() < tender.bid_deadline
                || tenderhall_domain::auction::awaiting_result(state.db(), &tender_id).await?
            {
                return Ok(Json(Page {
                    items: Vec::new(),
                    next_cursor: None,
                }));
            }
            Chain::tender_sealed(tender_id.as_str())
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "chain",
                "`chain` is `sealed`, or left out.",
                "`chain` 须为 `sealed` 或不填。",
            ));
        }
    };
    read_chain(&state, &chain, &page).await
}
