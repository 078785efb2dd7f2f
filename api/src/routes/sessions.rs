//! Sessions: sign in, see who is signed in, sign out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::account::service::{sign_in, sign_out};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(current_session, end_session))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateSessionResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub account_id: String,
}

/// Sign in.
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    tag = "accounts",
    request_body = CreateSessionRequest,
    responses(
        (status = 201, body = CreateSessionResponse),
        (status = 401, description = "`bad_credentials`, the same for an unknown email and a wrong password", body = Problem),
        (status = 429, description = "`rate_limited` after repeated failures; see `Retry-After`", body = Problem),
    )
)]
async fn create_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> ApiResult<(StatusCode, Json<CreateSessionResponse>)> {
    let session = sign_in(
        state.db(),
        state.sign_in_policy(),
        &req.email,
        &req.password,
        &ip,
        state.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateSessionResponse {
            token: session.token,
            expires_at: session.expires_at,
            account_id: session.account_id.to_string(),
        }),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipResponse {
    pub organization_id: String,
    pub kind: String,
    pub verified: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentSessionResponse {
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub operator: bool,
    pub organization: Option<MembershipResponse>,
}

/// Who is signed in with this token.
#[utoipa::path(
    get,
    path = "/api/v1/sessions/current",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, body = CurrentSessionResponse), (status = 401, body = Problem))
)]
async fn current_session(auth: Auth) -> Json<CurrentSessionResponse> {
    let p = auth.principal;
    Json(CurrentSessionResponse {
        account_id: p.account_id.to_string(),
        email: p.email,
        name: p.name,
        operator: p.is_operator,
        organization: p.membership.map(|m| MembershipResponse {
            organization_id: m.organization_id.to_string(),
            kind: m.kind.as_str().to_owned(),
            verified: m.verified,
        }),
    })
}

/// Sign out: the token stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/sessions/current",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem))
)]
async fn end_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
) -> ApiResult<StatusCode> {
    sign_out(state.db(), &auth.token, Some(ip), state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
