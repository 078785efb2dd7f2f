//! `POST /api/v1/accounts`: a person registers with their organization.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tenderhall_domain::account::service::{NewOrganization, Registration, register, set_language};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_account))
        .routes(routes!(set_account_language))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageRequest {
    /// `zh-CN` or `en`.
    pub language: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LanguageResponse {
    pub language: String,
}

/// Set the language of the caller's mail and notifications.
#[utoipa::path(
    put,
    path = "/api/v1/accounts/me/language",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = LanguageRequest,
    responses((status = 200, body = LanguageResponse), (status = 401, body = Problem), (status = 422, description = "`invalid`", body = Problem))
)]
async fn set_account_language(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    ApiJson(req): ApiJson<LanguageRequest>,
) -> ApiResult<Json<LanguageResponse>> {
    let language = set_language(
        state.db(),
        &auth.principal,
        &req.language,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(LanguageResponse {
        language: language.to_owned(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    /// Sign-in address; case does not matter.
    pub email: String,
    /// At least 10 characters with a letter and a digit.
    pub password: String,
    /// The person's name.
    pub name: String,
    pub organization: OrganizationRequest,
    /// `zh-CN` (default) or `en`: the language of mail and notifications.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationRequest {
    pub name: String,
    /// `tenderer`, `agency`, `bidder` or `supervisor`.
    pub kind: String,
    /// 统一社会信用代码.
    pub credit_code: String,
    /// 基本账户: the bank account deposits must be paid from (实施条例 Art 26).
    #[serde(default)]
    pub basic_account: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateAccountResponse {
    pub account_id: String,
    pub organization_id: String,
    /// True at once on a sandbox server; otherwise after an operator verifies the organization.
    pub verified: bool,
}

/// Register an account and its organization.
#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    tag = "accounts",
    request_body = CreateAccountRequest,
    responses(
        (status = 201, body = CreateAccountResponse),
        (status = 409, description = "`email_taken`", body = Problem),
        (status = 422, description = "`weak_password` or `invalid`", body = Problem),
    )
)]
async fn create_account(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateAccountRequest>,
) -> ApiResult<(StatusCode, Json<CreateAccountResponse>)> {
    let registration = Registration {
        email: req.email,
        password: req.password,
        name: req.name,
        organization: NewOrganization {
            name: req.organization.name,
            kind: req.organization.kind,
            credit_code: req.organization.credit_code,
            basic_account: req.organization.basic_account,
        },
        language: req.language,
    };
    let done = register(
        state.db(),
        registration,
        state.settings().sandbox,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateAccountResponse {
            account_id: done.account_id.to_string(),
            organization_id: done.organization_id.to_string(),
            verified: done.verified,
        }),
    ))
}
