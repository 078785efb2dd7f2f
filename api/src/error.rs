//! One API error type. Every refusal is an RFC 9457 problem (`application/problem+json`) with a
//! stable machine `code`, its `title` and `detail` in Chinese or English by `Accept-Language`.
//! Causes of 5xx answers are logged, never sent.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tenderhall_domain::DomainError;
use tenderhall_domain::error::{ErrorCode, Text};

use crate::extract::Lang;

#[derive(Debug, Clone)]
pub struct ApiError {
    /// The stable code, which carries the status and the title.
    pub code: ErrorCode,
    pub detail: Text,
    pub field: Option<String>,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: Text) -> Self {
        Self {
            code,
            detail,
            field: None,
            retry_after: None,
        }
    }

    /// The HTTP status of the code.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_json(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadJson, Text::new(en, zh))
    }

    pub fn invalid(field: impl Into<String>, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, Text::new(en, zh)).with_field(field)
    }

    pub fn unsupported_media_type(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnsupportedMediaType, Text::new(en, zh))
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            ErrorCode::TooLarge,
            Text::new(
                format!("The request body is larger than the {limit} bytes allowed here."),
                format!("请求体超过此处允许的 {limit} 字节。"),
            ),
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            Text::new(
                "Sign in first and send the token as `Authorization: Bearer <token>`; it may have expired.",
                "请先登录，并以 `Authorization: Bearer <token>` 发送令牌；令牌可能已过期。",
            ),
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            ErrorCode::NotFound,
            Text::new("Nothing is here.", "未找到该资源。"),
        )
    }

    pub fn sandbox_only() -> Self {
        Self::new(
            ErrorCode::SandboxOnly,
            Text::new(
                "This is available only on a sandbox server (started with --sandbox).",
                "此功能仅在沙箱服务器（以 --sandbox 启动）上可用。",
            ),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            Text::new(
                "Something went wrong on the platform; it has been logged. Nothing was changed.",
                "平台内部出错，已记录日志，未做任何更改。",
            ),
        )
    }

    pub fn unavailable(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, Text::new(en, zh))
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound => Self::not_found(),
            DomainError::Forbidden(text) => Self::new(ErrorCode::Forbidden, text),
            DomainError::OrgUnverified => Self::new(
                ErrorCode::OrgUnverified,
                Text::new(
                    "Your organization has not been verified by a platform operator yet.",
                    "您的机构尚未通过平台运营人员审核。",
                ),
            ),
            DomainError::Unauthenticated => Self::unauthenticated(),
            DomainError::BadCredentials => Self::new(
                ErrorCode::BadCredentials,
                Text::new(
                    "The email address or the password is wrong.",
                    "邮箱或密码错误。",
                ),
            ),
            DomainError::RateLimited { retry_after } => Self {
                retry_after: Some(retry_after),
                ..Self::new(
                    ErrorCode::RateLimited,
                    Text::new(
                        format!(
                            "Too many failed attempts; try again in {} seconds.",
                            retry_after.as_secs().max(1)
                        ),
                        format!(
                            "失败次数过多，请在 {} 秒后重试。",
                            retry_after.as_secs().max(1)
                        ),
                    ),
                )
            },
            DomainError::Invalid {
                code,
                field,
                message,
            } => Self {
                field,
                ..Self::new(code, message)
            },
            DomainError::Refused { code, message } => Self::new(code, message),
            DomainError::SandboxOnly => Self::sandbox_only(),
            DomainError::Database(e) => {
                tracing::error!(error = %e, "database error");
                Self::internal()
            }
            DomainError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::internal()
            }
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        DomainError::from(e).into()
    }
}

/// Carried in the response until [`localize_problems`] renders it in the caller's language.
#[derive(Debug, Clone)]
struct PendingProblem(ApiError);

impl ApiError {
    /// The problem object in `lang`, as a refusal's body carries it.
    pub fn problem(&self, lang: Lang) -> Map<String, Value> {
        let (title_en, title_zh) = self.code.title();
        let (title, detail) = match lang {
            Lang::Zh => (title_zh, self.detail.zh.as_str()),
            Lang::En => (title_en, self.detail.en.as_str()),
        };
        let mut body = Map::new();
        body.insert("type".into(), json!("about:blank"));
        body.insert("title".into(), json!(title));
        body.insert("status".into(), json!(self.status().as_u16()));
        body.insert("code".into(), json!(self.code.as_str()));
        body.insert("detail".into(), json!(detail));
        if let Some(field) = &self.field {
            body.insert("field".into(), json!(field));
        }
        body
    }

    fn render(&self, lang: Lang, request_id: Option<&str>) -> Response {
        let status = self.status();
        let mut body = self.problem(lang);
        if let Some(id) = request_id {
            body.insert("request_id".into(), json!(id));
        }
        let mut response = (status, Value::Object(body).to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
        if let Some(after) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Rendered in English here; the middleware re-renders in the caller's language.
        let mut response = self.render(Lang::En, None);
        response.extensions_mut().insert(PendingProblem(self));
        response
    }
}

/// Renders every problem in the caller's language, and turns the plain error answers of the
/// framework (unknown route, wrong method, a body over the limit) into problems too.
pub async fn localize_problems(request: Request, next: Next) -> Response {
    let lang = Lang::from_headers(request.headers());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut response = next.run(request).await;
    let pending = response.extensions_mut().remove::<PendingProblem>();
    let problem = match pending {
        Some(PendingProblem(problem)) => problem,
        None if response.status().is_client_error() || response.status().is_server_error() => {
            let is_problem = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
            // A page's refusal is already a page (crate::web::PageError).
            let is_page = response
                .headers()
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
            if is_problem || is_page {
                return response;
            }
            framework_problem(response.status())
        }
        None => return response,
    };
    let mut rendered = problem.render(lang, request_id.as_deref());
    // Keep headers such as `Allow` that the framework set.
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_LANGUAGE
        {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rendered
}

fn framework_problem(status: StatusCode) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            ErrorCode::MethodNotAllowed,
            Text::new(
                "This path does not accept this method.",
                "该路径不支持此请求方法。",
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::TooLarge,
            Text::new(
                "The request body is larger than allowed here.",
                "请求体超过此处允许的大小。",
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            Text::new(
                "Send the body as `Content-Type: application/json`.",
                "请以 `Content-Type: application/json` 发送请求体。",
            ),
        ),
        s if s.is_server_error() => {
            tracing::error!(status = s.as_u16(), "server error answered");
            ApiError::internal()
        }
        _ => ApiError::new(
            ErrorCode::BadRequest,
            Text::new("The request was refused.", "请求被拒绝。"),
        ),
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The codes docs/api.md promises clients, by status, are exactly the enum's: a code added
    /// without its line in the guide, or a line left for a code that is gone, fails here.
    #[test]
    fn the_guides_code_table_matches_the_error_code_enum() {
        let guide = include_str!("../../docs/api.md");
        let mut documented = BTreeSet::new();
        for line in guide.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let Some(status) = cells.get(1).and_then(|c| c.parse::<u16>().ok()) else {
                continue;
            };
            let codes = cells.get(2).copied().unwrap_or("");
            for code in codes.split('`').skip(1).step_by(2) {
                documented.insert((status, code.to_owned()));
            }
        }
        let enumerated: BTreeSet<(u16, String)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.status(), c.as_str().to_owned()))
            .collect();
        assert_eq!(documented, enumerated);
    }

    #[test]
    fn every_code_has_a_status_that_refuses_and_titles_in_both_languages() {
        for code in ErrorCode::ALL {
            let (en, zh) = code.title();
            assert!(code.status() >= 400, "{code}");
            assert!(!en.is_empty() && !zh.is_empty(), "{code}");
        }
    }
}
