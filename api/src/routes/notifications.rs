//! Notifications in the platform, and password reset by mailed link.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::id::NotificationId;
use tenderhall_domain::notify::service::{self as notify, Notification};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Page, PageQuery, Problem};
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiQuery, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(request_reset))
        .routes(routes!(complete_reset))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    pub id: String,
    pub kind: String,
    /// In the account's language.
    pub title: String,
    pub body: String,
    /// What it is about, e.g. `tender:tnd_…`.
    pub object: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationResponse {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            object: n.object,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    pub unread: Option<bool>,
}

/// The caller's notifications, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "accounts",
    security(("bearer" = [])),
    params(NotificationQuery, PageQuery),
    responses((status = 200, body = Page<NotificationResponse>), (status = 401, body = Problem))
)]
async fn list_notifications(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<NotificationQuery>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<NotificationResponse>>> {
    let limit = page.limit()?;
    let items = notify::list(
        state.db(),
        &auth.principal,
        query.unread.unwrap_or(false),
        page.cursor.as_deref(),
        limit,
    )
    .await?;
    let next_cursor = (items.len() as u64 == limit)
        .then(|| items.last().map(|n| n.id.clone()))
        .flatten();
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// Mark a notification read.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/read",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem))
)]
async fn mark_read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    notify::mark_read(
        state.db(),
        &auth.principal,
        &NotificationId::parse(&id)?,
        state.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetAccepted {
    /// The same whether or not the address has an account.
    pub status: &'static str,
}

/// Ask for a password reset link by mail. The answer is the same whether or not the address is
/// registered.
#[utoipa::path(
    post,
    path = "/api/v1/password-resets",
    tag = "accounts",
    request_body = PasswordResetRequest,
    responses((status = 202, body = PasswordResetAccepted))
)]
async fn request_reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<(StatusCode, Json<PasswordResetAccepted>)> {
    notify::request_password_reset(
        state.db(),
        &req.email,
        &state.settings().public_url(),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok((
        StatusCode::ACCEPTED,
        Json(PasswordResetAccepted {
            status: "if the address is registered, a reset link is on its way",
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteResetRequest {
    /// The new password: at least 10 characters with a letter and a digit.
    pub password: String,
}

/// Set a new password with the token from the reset link: once, within 30 minutes. Every session
/// of the account ends.
#[utoipa::path(
    post,
    path = "/api/v1/password-resets/{token}",
    tag = "accounts",
    params(("token" = String, Path)),
    request_body = CompleteResetRequest,
    responses((status = 204), (status = 422, description = "`reset_token_invalid`, `weak_password`", body = Problem))
)]
async fn complete_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    ApiJson(req): ApiJson<CompleteResetRequest>,
) -> ApiResult<StatusCode> {
    notify::reset_password(state.db(), &token, &req.password, Some(ip), state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
