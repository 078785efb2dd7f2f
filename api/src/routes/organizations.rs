//! Organizations: read, list and verify (operators), and bidders' signing keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::account::service::{self as accounts, Organization};
use tenderhall_domain::audit::Actor;
use tenderhall_domain::id::OrganizationId;
use tenderhall_domain::keys::service::{self as keys, SigningKey};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Page, PageQuery, Problem};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations))
        .routes(routes!(get_organization))
        .routes(routes!(verify_organization))
        .routes(routes!(register_signing_key, list_signing_keys))
        .routes(routes!(revoke_signing_key))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationResponse {
    pub id: String,
    pub name: String,
    /// `tenderer`, `agency`, `bidder` or `supervisor`.
    pub kind: String,
    pub credit_code: String,
    pub basic_account: Option<String>,
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Organization> for OrganizationResponse {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id,
            name: o.name,
            kind: o.kind,
            credit_code: o.credit_code,
            basic_account: o.basic_account,
            verified: o.verified,
            verified_at: o.verified_at,
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    /// Only verified (`true`) or only waiting (`false`) organizations.
    pub verified: Option<bool>,
}

/// List organizations (operators and supervisors), oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/organizations",
    tag = "organizations",
    security(("bearer" = [])),
    params(OrganizationFilter, PageQuery),
    responses((status = 200, body = Page<OrganizationResponse>), (status = 403, body = Problem))
)]
async fn list_organizations(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(filter): ApiQuery<OrganizationFilter>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<OrganizationResponse>>> {
    let limit = page.limit()?;
    let items = accounts::list_organizations(
        state.db(),
        &auth.principal,
        filter.verified,
        page.cursor.as_deref(),
        limit,
    )
    .await?;
    let next_cursor = (items.len() as u64 == limit)
        .then(|| items.last().map(|o| o.id.clone()))
        .flatten();
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Read an organization (its members, operators, supervisors).
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path)),
    responses((status = 200, body = OrganizationResponse), (status = 403, body = Problem), (status = 404, body = Problem))
)]
async fn get_organization(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Json<OrganizationResponse>> {
    // A stranger is refused (403) before the id is read, whatever it names.
    accounts::may_read_organization(&auth.principal, &org)?;
    let org = OrganizationId::parse(&org)?;
    Ok(Json(
        accounts::get_organization(state.db(), &auth.principal, &org)
            .await?
            .into(),
    ))
}

/// Verify an organization (operators): its documents were checked off the platform.
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/verify",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path)),
    responses((status = 200, body = OrganizationResponse), (status = 403, body = Problem), (status = 404, body = Problem))
)]
async fn verify_organization(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Json<OrganizationResponse>> {
    auth.principal.require_operator()?;
    let actor = Actor::account(auth.principal.account_id.as_str(), Some(ip));
    Ok(Json(
        accounts::verify_organization(
            state.db(),
            &actor,
            &OrganizationId::parse(&org)?,
            state.now(),
        )
        .await?
        .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSigningKeyRequest {
    /// The raw 32-byte Ed25519 public key, base64.
    pub public_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKeyResponse {
    /// Lowercase hex SHA-256 of the raw public key.
    pub key_id: String,
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<SigningKey> for SigningKeyResponse {
    fn from(k: SigningKey) -> Self {
        Self {
            key_id: k.key_id,
            public_key: k.public_key,
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// The organization of a members-only route. Anyone but a member is refused (403) before the id is
/// read, as the key services did when they took it as a string; a member's own id always parses.
fn member_org(auth: &Auth, org: &str) -> ApiResult<OrganizationId> {
    auth.principal.require_member(org)?;
    Ok(OrganizationId::parse(org)?)
}

/// Register a signing key for sealed bids (members of a verified organization).
#[utoipa::path(
    post,
    path = "/api/v1/organizations/{org}/signing-keys",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path)),
    request_body = RegisterSigningKeyRequest,
    responses(
        (status = 201, body = SigningKeyResponse),
        (status = 403, description = "`forbidden` or `org_unverified`", body = Problem),
        (status = 409, description = "`key_exists`", body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn register_signing_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(org): Path<String>,
    ApiJson(req): ApiJson<RegisterSigningKeyRequest>,
) -> ApiResult<(StatusCode, Json<SigningKeyResponse>)> {
    let org = member_org(&auth, &org)?;
    let key = keys::register_signing_key(
        state.db(),
        &auth.principal,
        &org,
        &req.public_key,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(key.into())))
}

/// The organization's signing keys, revoked ones included (its members).
#[utoipa::path(
    get,
    path = "/api/v1/organizations/{org}/signing-keys",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path)),
    responses((status = 200, body = Page<SigningKeyResponse>), (status = 403, body = Problem))
)]
async fn list_signing_keys(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Json<Page<SigningKeyResponse>>> {
    let items =
        keys::list_signing_keys(state.db(), &auth.principal, &member_org(&auth, &org)?).await?;
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }))
}

/// Revoke a signing key: it signs no new bid; bids it signed before still open.
#[utoipa::path(
    delete,
    path = "/api/v1/organizations/{org}/signing-keys/{key_id}",
    tag = "organizations",
    security(("bearer" = [])),
    params(("org" = String, Path), ("key_id" = String, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem))
)]
async fn revoke_signing_key(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((org, key_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    if key_id.len() != 64 {
        return Err(ApiError::not_found());
    }
    keys::revoke_signing_key(
        state.db(),
        &auth.principal,
        &member_org(&auth, &org)?,
        &key_id,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
