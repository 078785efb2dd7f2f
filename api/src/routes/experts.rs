//! The expert pool (评标专家库): operators import and manage it; experts keep their own
//! availability, relationships and signing key, and read their invitations (docs/experts.md).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, header};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tenderhall_domain::draw::service as draws;
use tenderhall_domain::expert::service::{self as experts, ImportReport, Importer, Profile};
use tenderhall_domain::id::ExpertId;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::{Items, Page, PageQuery, Problem};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

/// The largest pool file accepted in one request (tens of thousands of rows fit many times over).
const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_experts).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)))
        .routes(routes!(list_experts))
        .routes(routes!(get_expert))
        .routes(routes!(suspend_expert))
        .routes(routes!(own_profile))
        .routes(routes!(set_availability))
        .routes(routes!(set_relationships))
        .routes(routes!(set_signing_key))
        .routes(routes!(own_invitations))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    /// Rows written: experts created or updated.
    pub imported: u64,
    pub rejected: Vec<RejectedRow>,
}

impl From<ImportReport> for ImportResponse {
    fn from(r: ImportReport) -> Self {
        Self {
            imported: r.imported,
            rejected: r
                .rejected
                .into_iter()
                .map(|r| RejectedRow {
                    line: r.line,
                    reason: r.reason,
                })
                .collect(),
        }
    }
}

/// Import the pool's CSV (operators): a header row
/// `expert_id,name,email,specialty,region,employer_credit_code,title,years`, one expert per row.
/// Each good row creates an expert (with an activation mail) or updates the one of its
/// `expert_id`; each bad row is reported by line and changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/experts/import",
    tag = "experts",
    security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, body = ImportResponse),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 413, body = Problem),
        (status = 415, description = "`unsupported_media_type`: send `text/csv`", body = Problem),
        (status = 422, description = "`invalid` on `csv`: an empty file or a header without the pool's columns", body = Problem),
    )
)]
async fn import_experts(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ImportResponse>> {
    auth.principal.require_operator()?;
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/csv"));
    if !csv {
        return Err(ApiError::unsupported_media_type(
            "Send the pool as `Content-Type: text/csv`.",
            "请以 `Content-Type: text/csv` 提交专家库文件。",
        ));
    }
    let report = experts::import_csv(
        state.db(),
        Importer::Operator(&auth.principal, Some(&ip)),
        &body,
        &state.settings().public_url(),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok(Json(report.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormerEmployer {
    /// The employer's unified social credit code.
    pub credit_code: String,
    /// The day the expert left.
    pub ended_on: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpertResponse {
    pub expert_id: String,
    pub name: String,
    pub email: String,
    pub specialties: Vec<String>,
    pub region: String,
    pub employer_credit_code: String,
    pub title: String,
    pub years: i32,
    /// `active` or `suspended`.
    pub status: String,
    pub suspended_reason: Option<String>,
    pub suspended_until: Option<NaiveDate>,
    pub unavailable: Vec<NaiveDate>,
    pub former_employers: Vec<FormerEmployer>,
    pub relatives_employers: Vec<String>,
    /// The id (SHA-256) of the Ed25519 key the expert signs scores with.
    pub signing_key_id: Option<String>,
}

impl From<Profile> for ExpertResponse {
    fn from(p: Profile) -> Self {
        Self {
            expert_id: p.expert_id,
            name: p.name,
            email: p.email,
            specialties: p.specialties,
            region: p.region,
            employer_credit_code: p.employer_credit_code,
            title: p.title,
            years: p.years,
            status: p.status,
            suspended_reason: p.suspended_reason,
            suspended_until: p.suspended_until,
            unavailable: p.unavailable,
            former_employers: p
                .former_employers
                .into_iter()
                .map(|(credit_code, ended_on)| FormerEmployer {
                    credit_code,
                    ended_on,
                })
                .collect(),
            relatives_employers: p.relatives_employers,
            signing_key_id: p.signing_key_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpertSummary {
    pub expert_id: String,
    pub name: String,
    pub region: String,
    pub employer_credit_code: String,
    pub status: String,
}

/// The pool, by id (operators).
#[utoipa::path(
    get,
    path = "/api/v1/experts",
    tag = "experts",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Page<ExpertSummary>),
        (status = 400, description = "a query that does not parse", body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn list_experts(
    State(state): State<AppState>,
    auth: Auth,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ExpertSummary>>> {
    let limit = page.limit()?;
    let rows = experts::list(
        state.db(),
        &auth.principal,
        page.cursor.as_deref(),
        limit + 1,
    )
    .await?;
    let more = rows.len() as u64 > limit;
    let items: Vec<ExpertSummary> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|e| ExpertSummary {
            expert_id: e.id,
            name: e.name,
            region: e.region,
            employer_credit_code: e.employer_credit_code,
            status: e.status,
        })
        .collect();
    let next_cursor = more
        .then(|| items.last().map(|e| e.expert_id.clone()))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

/// An expert's profile (operators).
#[utoipa::path(
    get,
    path = "/api/v1/experts/{expert_id}",
    tag = "experts",
    security(("bearer" = [])),
    params(("expert_id" = String, Path)),
    responses(
        (status = 200, body = ExpertResponse),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn get_expert(
    State(state): State<AppState>,
    auth: Auth,
    Path(expert_id): Path<String>,
) -> ApiResult<Json<ExpertResponse>> {
    auth.principal.require_operator()?;
    let profile =
        experts::profile(state.db(), &auth.principal, &ExpertId::parse(&expert_id)?).await?;
    Ok(Json(profile.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspensionRequest {
    /// Suspended until this day (inclusive); `null` reinstates the expert.
    pub until: Option<NaiveDate>,
    /// Why (required to suspend).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Suspend an expert until a day, with a reason, or reinstate it (operators).
#[utoipa::path(
    put,
    path = "/api/v1/experts/{expert_id}/suspension",
    tag = "experts",
    security(("bearer" = [])),
    params(("expert_id" = String, Path)),
    request_body = SuspensionRequest,
    responses(
        (status = 200, body = ExpertResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn suspend_expert(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(expert_id): Path<String>,
    ApiJson(req): ApiJson<SuspensionRequest>,
) -> ApiResult<Json<ExpertResponse>> {
    auth.principal.require_operator()?;
    let id = ExpertId::parse(&expert_id)?;
    let suspension = req
        .until
        .map(|until| (req.reason.clone().unwrap_or_default(), until));
    let profile = experts::set_suspension(
        state.db(),
        &auth.principal,
        &id,
        suspension,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(profile.into()))
}

/// The signed-in expert's own profile.
#[utoipa::path(
    get,
    path = "/api/v1/experts/me",
    tag = "experts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ExpertResponse),
        (status = 401, body = Problem),
        (status = 403, description = "not an expert of the pool", body = Problem),
    )
)]
async fn own_profile(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<ExpertResponse>> {
    Ok(Json(
        experts::own_profile(state.db(), &auth.principal)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRequest {
    /// The days the expert cannot sit (at most 366); replaces the list.
    pub unavailable: Vec<NaiveDate>,
}

/// Replace the days the signed-in expert cannot sit on a committee.
#[utoipa::path(
    put,
    path = "/api/v1/experts/me/availability",
    tag = "experts",
    security(("bearer" = [])),
    request_body = AvailabilityRequest,
    responses(
        (status = 200, body = ExpertResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn set_availability(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    ApiJson(req): ApiJson<AvailabilityRequest>,
) -> ApiResult<Json<ExpertResponse>> {
    let profile = experts::set_unavailable(
        state.db(),
        &auth.principal,
        req.unavailable,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(profile.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormerEmployerInput {
    pub credit_code: String,
    pub ended_on: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipsRequest {
    /// Employers the expert left, with the day (avoided for 3 years, 政府采购法实施条例 Art 9).
    #[serde(default)]
    pub former_employers: Vec<FormerEmployerInput>,
    /// The employers of the expert's close relatives.
    #[serde(default)]
    pub relatives_employers: Vec<String>,
}

/// Replace the signed-in expert's declared relationships.
#[utoipa::path(
    put,
    path = "/api/v1/experts/me/relationships",
    tag = "experts",
    security(("bearer" = [])),
    request_body = RelationshipsRequest,
    responses(
        (status = 200, body = ExpertResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn set_relationships(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    ApiJson(req): ApiJson<RelationshipsRequest>,
) -> ApiResult<Json<ExpertResponse>> {
    let profile = experts::set_relationships(
        state.db(),
        &auth.principal,
        req.former_employers
            .into_iter()
            .map(|f| (f.credit_code, f.ended_on))
            .collect(),
        req.relatives_employers,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(profile.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpertKeyRequest {
    /// The raw 32-byte Ed25519 public key, base64.
    pub public_key: String,
}

/// Register the signed-in expert's Ed25519 public key (it verifies the scores the expert signs);
/// a new key replaces the old one.
#[utoipa::path(
    put,
    path = "/api/v1/experts/me/signing-key",
    tag = "experts",
    security(("bearer" = [])),
    request_body = ExpertKeyRequest,
    responses(
        (status = 200, body = ExpertResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn set_signing_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    ApiJson(req): ApiJson<ExpertKeyRequest>,
) -> ApiResult<Json<ExpertResponse>> {
    let profile = experts::set_signing_key(
        state.db(),
        &auth.principal,
        &req.public_key,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(profile.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnInvitation {
    pub draw_id: String,
    /// `pending`, `accepted`, `declined`, `timed_out` or `withdrew`.
    pub status: String,
    pub invited_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The signed-in expert's invitations, newest first (the links to answer them come by mail and
/// in the notifications).
#[utoipa::path(
    get,
    path = "/api/v1/experts/me/invitations",
    tag = "experts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Items<OwnInvitation>),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn own_invitations(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Items<OwnInvitation>>> {
    let items = draws::my_invitations(state.db(), &auth.principal)
        .await?
        .into_iter()
        .map(|m| OwnInvitation {
            draw_id: m.draw_id,
            status: m.status,
            invited_at: m.invited_at,
            expires_at: m.expires_at,
        })
        .collect();
    Ok(Json(Items { items }))
}
