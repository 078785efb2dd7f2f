//! A page's form as a handler receives it: only with the page's token (403 `csrf_failed`
//! otherwise), parsed into `T`.

use axum::extract::{FromRequest, Request};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tenderhall_domain::error::{ErrorCode, Text};

use super::PageError;
use super::session::{CSRF_COOKIE, cookie, csrf_ok};
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
