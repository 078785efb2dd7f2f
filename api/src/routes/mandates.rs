//! Mandates (委托代理): a tenderer grants and revokes an agency's mandate to act for it; both sides,
//! supervisors and operators list them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::id::{MandateId, OrganizationId};
use tenderhall_domain::mandate::{Mandate, service as mandates};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Items, Problem};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(grant_mandate, list_mandates))
        .routes(routes!(revoke_mandate))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantMandateRequest {
    /// The agency organization (招标代理机构) to act for the tenderer.
    pub agency_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MandateResponse {
    pub mandate_id: String,
    pub tenderer_id: String,
    pub agency_id: String,
    pub granted_at: DateTime<Utc>,
    /// `null` while the mandate is current.
    pub revoked_at: Option<DateTime<Utc>>,
    pub current: bool,
}

impl From<Mandate> for MandateResponse {
    fn from(m: Mandate) -> Self {
        Self {
            current: m.is_current(),
            mandate_id: m.id,
            tenderer_id: m.tenderer_org_id,
            agency_id: m.agency_org_id,
            granted_at: m.granted_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// Mandate an agency to run the tenderer's procurements (a member of the tenderer). Until it is
/// revoked, the agency creates and manages tenders for the tenderer; every act is recorded.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/mandates",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path, description = "the tenderer organization")),
    request_body = GrantMandateRequest,
    responses(
        (status = 201, body = MandateResponse),
        (status = 400, body = Problem),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 409, description = "`mandate_exists`", body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn grant_mandate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<GrantMandateRequest>,
) -> ApiResult<(StatusCode, Json<MandateResponse>)> {
    let tenderer = OrganizationId::parse(&org)?;
    let agency = OrganizationId::parse(&req.agency_id).map_err(|_| {
        ApiError::invalid(
            "agency_id",
            "`agency_id` is not an organization id.",
            "`agency_id` 不是机构编号。",
        )
    })?;
    let mandate = mandates::grant(
        state.db(),
        &auth.principal,
        &tenderer,
        &agency,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(mandate.into())))
}

/// The mandates an organization gave (a tenderer) or holds (an agency), newest first: to its
/// members, supervisors and operators.
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/mandates",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path)),
    responses(
        (status = 200, body = Items<MandateResponse>),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
    )
)]
async fn list_mandates(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Json<Items<MandateResponse>>> {
    let items = mandates::list(state.db(), &auth.principal, &OrganizationId::parse(&org)?).await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Revoke a mandate (a member of the tenderer that gave it): the agency no longer acts for the
/// tenderer (403 `no_mandate`). Revoking it again changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/organizations/{org}/mandates/{mandate_id}",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path), ("mandate_id" = String, Path)),
    responses(
        (status = 200, body = MandateResponse),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn revoke_mandate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((org, mandate_id)): Path<(String, String)>,
) -> ApiResult<Json<MandateResponse>> {
    let mandate = mandates::revoke(
        state.db(),
        &auth.principal,
        &OrganizationId::parse(&org)?,
        &MandateId::parse(&mandate_id)?,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(mandate.into()))
}
