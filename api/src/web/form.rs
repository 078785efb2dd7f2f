//! A page's form as a handler receives it: only with the page's token (403 `csrf_failed`
//! otherwise), parsed into `T`; and a refusal shown on the form it came from.

use axum::extract::{FromRequest, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tenderhall_domain::error::{ErrorCode, Text};

use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::session::{CSRF_COOKIE, Visitor, cookie, csrf_ok};
use super::{PageError, PageResult};
use crate::error::ApiError;
use crate::state::AppState;

/// Forms are small: names, dates, a question. Documents go to their own upload.
const FORM_LIMIT: usize = 64 * 1024;

#[derive(Deserialize)]
struct TokenField {
    csrf: Option<String>,
}

/// A form whose only field is its token (publish, register, withdraw, sign out...).
#[derive(Debug, Deserialize)]
pub struct NoFields {}

/// `application/x-www-form-urlencoded` fields with a valid `csrf` field.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

pub fn csrf_refused() -> PageError {
    PageError(ApiError::new(
        ErrorCode::CsrfFailed,
        Text::new(
            "This form did not come from a page of this site, or the page is too old: go back, reload the page and send it again.",
            "该表单不是来自本站页面，或页面已过期：请返回、刷新页面后重新提交。",
        ),
    ))
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let seed = cookie(req.headers(), CSRF_COOKIE).map(str::to_owned);
        let bytes = axum::body::to_bytes(req.into_body(), FORM_LIMIT)
            .await
            .map_err(|_| PageError(ApiError::too_large(FORM_LIMIT)))?;
        let token = serde_urlencoded::from_bytes::<TokenField>(&bytes)
            .ok()
            .and_then(|t| t.csrf);
        match (seed, token) {
            (Some(seed), Some(token)) if csrf_ok(state.web_key(), &seed, &token) => {}
            _ => return Err(csrf_refused()),
        }
        serde_urlencoded::from_bytes::<T>(&bytes)
            .map(CsrfForm)
            .map_err(|e| {
                PageError(ApiError::invalid(
                    "form",
                    format!("The form is not complete: {e}."),
                    format!("表单不完整：{e}。"),
                ))
            })
    }
}

/// A refusal shown on the form it came from, in the visitor's language.
pub struct FormError {
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

pub fn form_error(visitor: &Visitor, e: impl Into<ApiError>) -> (StatusCode, FormError) {
    let e: ApiError = e.into();
    let message = if visitor.tr.is_zh() {
        e.detail.zh.clone()
    } else {
        e.detail.en.clone()
    };
    (
        e.status(),
        FormError {
            code: e.code.as_str(),
            field: e.field.clone().unwrap_or_default(),
            message,
        },
    )
}

pub fn with_status(status: StatusCode, page: PageResult) -> PageResult {
    page.map(|r| (status, r).into_response())
}

/// Sends a visitor who is not signed in to the sign-in page, to come back here after.
pub fn require_sign_in(
    visitor: &Visitor,
) -> Result<&tenderhall_domain::account::Principal, PageError> {
    visitor
        .principal
        .as_ref()
        .ok_or_else(|| PageError(ApiError::unauthenticated()))
}
