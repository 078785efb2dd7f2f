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
use tenderhall_domain::error::Text;

use crate::extract::Lang;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: Text,
    pub field: Option<String>,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: Text) -> Self {
        Self {
            status,
            code,
            detail,
            field: None,
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn bad_json(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_json", Text::new(en, zh))
    }

    pub fn invalid(field: impl Into<String>, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Text::new(en, zh),
        )
        .with_field(field)
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            Text::new(
                format!("The request body is larger than the {limit} bytes allowed here."),
                format!("请求体超过此处允许的 {limit} 字节。"),
            ),
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            Text::new(
                "Sign in first and send the token as `Authorization: Bearer <token>`; it may have expired.",
                "请先登录，并以 `Authorization: Bearer <token>` 发送令牌；令牌可能已过期。",
            ),
        )
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Text::new("Nothing is here.", "未找到该资源。"),
        )
    }

    pub fn sandbox_only() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "sandbox_only",
            Text::new(
                "This is available only on a sandbox server (started with --sandbox).",
                "此功能仅在沙箱服务器（以 --sandbox 启动）上可用。",
            ),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            Text::new(
                "Something went wrong on the platform; it has been logged. Nothing was changed.",
                "平台内部出错，已记录日志，未做任何更改。",
            ),
        )
    }

    pub fn unavailable(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            Text::new(en, zh),
        )
    }
}

/// A short title per code, in both languages.
fn title(code: &str, status: StatusCode) -> (&'static str, &'static str) {
    match code {
        "bad_json" => ("Malformed request body", "请求体格式错误"),
        "unauthenticated" => ("Sign-in required", "需要登录"),
        "bad_credentials" => ("Wrong email or password", "邮箱或密码错误"),
        "forbidden" => ("Not allowed", "无权执行此操作"),
        "org_unverified" => ("Organization not verified", "机构尚未通过审核"),
        "not_found" => ("Not found", "未找到"),
        "method_not_allowed" => ("Method not allowed", "不支持该请求方法"),
        "too_large" => ("Request too large", "请求体过大"),
        "unsupported_media_type" => ("Unsupported content type", "不支持的内容类型"),
        "invalid" => ("Invalid input", "输入无效"),
        "weak_password" => ("Weak password", "密码强度不足"),
        "email_taken" => ("Email already registered", "邮箱已被注册"),
        "key_exists" => ("Key already registered", "公钥已登记"),
        "rate_limited" => ("Too many attempts", "尝试次数过多"),
        "sandbox_only" => ("Sandbox only", "仅限沙箱"),
        "period_too_short" => ("Period too short", "期限不足"),
        "deposit_too_high" => ("Deposit too high", "保证金过高"),
        "procedure_mismatch" => ("Procedure does not fit", "交易方式不适用"),
        "not_draft" => ("No longer a draft", "已不是草稿"),
        "bad_upload" => ("Upload failed", "上传失败"),
        "tender_closed" => ("Tender closed", "项目已截止"),
        "reset_token_invalid" => ("Reset link not valid", "重置链接无效"),
        "job_not_dead" => ("Job not dead", "任务未失败终止"),
        "not_cancellable" => ("Cannot be cancelled", "不能终止"),
        "questions_closed" => ("Questions closed", "提问已截止"),
        "tender_not_active" => ("Tender not open", "项目不在招标期"),
        "already_answered" => ("Already answered", "已答复"),
        "deadline_passed" => ("Deadline passed", "已过截止时间"),
        "lot_not_active" => ("Lot not open", "标段不在招标期"),
        "no_document_fee" => ("No document fee", "不收取文件费"),
        "fee_unpaid" => ("Document fee unpaid", "文件费未缴纳"),
        "bad_signature" => ("Bad bank signature", "银行签名无效"),
        "stale_timestamp" => ("Stale bank timestamp", "银行时间戳过期"),
        "txn_conflict" => ("Bank transaction conflict", "银行流水冲突"),
        "already_withdrawn" => ("Already withdrawn", "已撤回"),
        "guarantee_invalid" => ("Guarantee not accepted", "保函无效"),
        "guarantee_not_allowed" => ("Guarantee not allowed", "不接受保函"),
        "guarantee_exists" => ("Guarantee already given", "保函已提交"),
        "unavailable" => ("Service unavailable", "服务暂不可用"),
        "internal" => ("Internal error", "内部错误"),
        _ => match status.canonical_reason() {
            Some(_) => ("Request refused", "请求被拒绝"),
            None => ("Error", "错误"),
        },
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound => Self::not_found(),
            DomainError::Forbidden(text) => Self::new(StatusCode::FORBIDDEN, "forbidden", text),
            DomainError::OrgUnverified => Self::new(
                StatusCode::FORBIDDEN,
                "org_unverified",
                Text::new(
                    "Your organization has not been verified by a platform operator yet.",
                    "您的机构尚未通过平台运营人员审核。",
                ),
            ),
            DomainError::Unauthenticated => Self::unauthenticated(),
            DomainError::BadCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                Text::new(
                    "The email address or the password is wrong.",
                    "邮箱或密码错误。",
                ),
            ),
            DomainError::RateLimited { retry_after } => Self {
                retry_after: Some(retry_after),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
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
                ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            },
            DomainError::Conflict { code, message } => {
                Self::new(StatusCode::CONFLICT, code, message)
            }
            DomainError::PaymentRequired { code, message } => {
                Self::new(StatusCode::PAYMENT_REQUIRED, code, message)
            }
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
    fn render(&self, lang: Lang, request_id: Option<&str>) -> Response {
        let (title_en, title_zh) = title(self.code, self.status);
        let (title, detail) = match lang {
            Lang::Zh => (title_zh, self.detail.zh.as_str()),
            Lang::En => (title_en, self.detail.en.as_str()),
        };
        let mut body = Map::new();
        body.insert("type".into(), json!("about:blank"));
        body.insert("title".into(), json!(title));
        body.insert("status".into(), json!(self.status.as_u16()));
        body.insert("code".into(), json!(self.code));
        body.insert("detail".into(), json!(detail));
        if let Some(field) = &self.field {
            body.insert("field".into(), json!(field));
        }
        if let Some(id) = request_id {
            body.insert("request_id".into(), json!(id));
        }
        let mut response = (self.status, Value::Object(body).to_string()).into_response();
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
            if is_problem {
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
            status,
            "method_not_allowed",
            Text::new(
                "This path does not accept this method.",
                "该路径不支持此请求方法。",
            ),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "too_large",
            Text::new(
                "The request body is larger than allowed here.",
                "请求体超过此处允许的大小。",
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            Text::new(
                "Send the body as `Content-Type: application/json`.",
                "请以 `Content-Type: application/json` 发送请求体。",
            ),
        ),
        s if s.is_server_error() => {
            tracing::error!(status = s.as_u16(), "server error answered");
            ApiError::internal()
        }
        s => ApiError::new(
            s,
            "bad_request",
            Text::new("The request was refused.", "请求被拒绝。"),
        ),
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
