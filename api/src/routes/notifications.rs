//! Notifications in the platform, and password reset by mailed link.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
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
        .routes(routes!(reset_page))
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

/// The page a reset link opens: a form that sends the new password with the token from the link.
#[utoipa::path(get, path = "/reset-password", tag = "accounts", responses((status = 200, content_type = "text/html")))]
async fn reset_page() -> Html<&'static str> {
    Html(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>重置密码 Reset password · Tenderhall</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}input,button{font-size:1rem;padding:.4rem;width:100%;margin:.3rem 0}</style></head>
<body><h1>重置密码 <small>Reset password</small></h1>
<form id="f"><label>新密码 New password（至少 10 位，含字母和数字 / 10+ characters with a letter and a digit）
<input type="password" id="p" required minlength="10" autocomplete="new-password"></label>
<button>确定 Set password</button></form><p id="m" role="status"></p>
<script>
document.getElementById('f').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  const res = await fetch('/api/v1/password-resets/' + encodeURIComponent(token), {
    method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({password: document.getElementById('p').value})});
  document.getElementById('m').textContent = res.status === 204
    ? '密码已更新，请重新登录。 Your password is changed; sign in again.'
    : (await res.json()).detail;
});
</script></body></html>"#,
    )
}
