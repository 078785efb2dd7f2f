//! Extractors: the caller's language, address and principal, and JSON bodies that turn every
//! serde rejection into our problem format.

use std::net::{IpAddr, SocketAddr};
use tenderhall_domain::error::ErrorCode;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use tenderhall_domain::account::Principal;
use tenderhall_domain::account::service::authenticate;

use crate::error::ApiError;
use crate::state::AppState;

/// The language of titles and details: Chinese when the caller prefers it, English otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// Picks by `Accept-Language` with its quality values (RFC 9110 §12.5.4); English when
    /// the caller names neither language.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::preferred(headers).unwrap_or(Self::En)
    }

    /// The caller's preferred language of the two, if it names either.
    pub fn preferred(headers: &HeaderMap) -> Option<Self> {
        let value = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())?;
        let mut best: Option<(f32, Self)> = None;
        for item in value.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Self::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Self::En
            } else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Zh => "zh-CN",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_headers(&parts.headers))
    }
}

/// The caller's IP address, recorded in the audit log (电子招标投标办法 Art 49). Taken from
/// `X-Forwarded-For` only when the operator says a proxy of theirs sets it.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.settings().trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(Self(ip.to_string()));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(
                || "unknown".to_owned(),
                |ConnectInfo(addr)| addr.ip().to_string(),
            );
        Ok(Self(peer))
    }
}

/// The bearer token as sent.
fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A signed-in caller; 401 `unauthenticated` otherwise.
#[derive(Debug, Clone)]
pub struct Auth {
    pub principal: Principal,
    pub token: String,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = match bearer(parts) {
            Some(token) => token.to_owned(),
            None => portal_session(parts, state)?.ok_or_else(ApiError::unauthenticated)?,
        };
        let principal = authenticate(state.db(), &token, state.now()).await?;
        Ok(Self { principal, token })
    }
}

/// The portal's session cookie, for the calls a page's script makes: only with the page's form
/// token in `X-CSRF-Token` (403 `csrf_failed` without), so no other site can call in its name.
fn portal_session(parts: &Parts, state: &AppState) -> Result<Option<String>, ApiError> {
    use crate::web::session::{SESSION_COOKIE, cookie, header_token_ok};
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if !header_token_ok(state.web_key(), &parts.headers) {
        return Err(ApiError::new(
            ErrorCode::CsrfFailed,
            tenderhall_domain::error::Text::new(
                "Signed in by the portal's cookie, a call needs the page's token in `X-CSRF-Token`; an API client sends `Authorization: Bearer`.",
                "使用门户 Cookie 登录时，请求须在 `X-CSRF-Token` 中携带页面令牌；API 客户端请使用 `Authorization: Bearer`。",
            ),
        ));
    }
    Ok(Some(token.to_owned()))
}

/// A caller who may or may not be signed in: no token is `None`, a bad token is still 401.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let portal =
            crate::web::session::cookie(&parts.headers, crate::web::session::SESSION_COOKIE)
                .is_some()
                && parts.headers.contains_key(crate::web::session::CSRF_HEADER);
        if parts.headers.get(header::AUTHORIZATION).is_none() && !portal {
            return Ok(Self(None));
        }
        Auth::from_request_parts(parts, state)
            .await
            .map(|a| Self(Some(a.principal)))
    }
}

/// A JSON body: 400 `bad_json` when it is not JSON, 422 `invalid` naming the field when it does
/// not fit (unknown fields included), 413 `too_large` over the limit.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.settings().max_json_body_bytes as usize;
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let mime = ct.split(';').next().unwrap_or("").trim();
            if !(mime == "application/json" || mime.ends_with("+json")) {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    tenderhall_domain::error::Text::new(
                        format!("Send the body as `Content-Type: application/json`, not `{mime}`."),
                        format!(
                            "请以 `Content-Type: application/json` 发送请求体，而不是 `{mime}`。"
                        ),
                    ),
                ));
            }
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::too_large(limit));
        }
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| {
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.to_string().contains("length limit"))
                    || e.to_string().contains("length limit");
                if too_large {
                    ApiError::too_large(limit)
                } else {
                    ApiError::bad_json("The request body could not be read.", "无法读取请求体。")
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Query parameters: a value that does not fit is 422 `invalid` naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let message = text
                    .split("query string: ")
                    .nth(1)
                    .unwrap_or(&text)
                    .to_owned();
                let field = message
                    .split_once(": ")
                    .map(|(f, _)| f)
                    .filter(|f| !f.contains(' '))
                    .unwrap_or("query")
                    .to_owned();
                ApiError::invalid(
                    field.clone(),
                    format!("The query parameter `{field}` is not valid: {message}."),
                    format!("查询参数 `{field}` 无效：{message}。"),
                )
            })
    }
}

/// Parses `bytes` as `T`, classifying errors as docs/spec/api-contract.md asks.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de);
    if value.is_ok()
        && let Err(e) = de.end()
    {
        return Err(ApiError::bad_json(
            format!("The request body is not valid JSON: {e}."),
            format!("请求体不是有效的 JSON：{e}。"),
        ));
    }
    value.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if !inner.is_data() {
            return ApiError::bad_json(
                format!("The request body is not valid JSON: {inner}."),
                format!("请求体不是有效的 JSON：{inner}。"),
            );
        }
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        let field = named_field(&path, &message);
        ApiError::invalid(
            field.clone(),
            format!("`{field}`: {message}."),
            format!("字段 `{field}` 无效：{message}。"),
        )
    })
}

/// The field a serde data error is about: the path, completed with the name serde quotes for
/// unknown and missing fields.
fn named_field(path: &str, message: &str) -> String {
    let path = if path == "." { "" } else { path };
    // serde's path already ends at an unknown field, but stops at the parent of a missing one.
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    match (path, missing) {
        ("", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        ("", None) => "body".to_owned(),
        (p, None) => p.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use serde::Deserialize;

    use super::*;

    fn lang(value: &str) -> Lang {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
        );
        Lang::from_headers(&h)
    }

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(lang("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(lang("en-US,zh;q=0.5"), Lang::En);
        assert_eq!(lang("fr, zh;q=0.3"), Lang::Zh);
        assert_eq!(lang("fr"), Lang::En);
        assert_eq!(Lang::from_headers(&HeaderMap::new()), Lang::En);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Org {
        name: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        organization: Org,
    }

    #[test]
    fn serde_rejections_name_the_field() {
        let e =
            parse_json::<Body>(br#"{"email":"a","organization":{"name":"x","colour":1}}"#).err();
        assert_eq!(
            e.as_ref().and_then(|e| e.field.as_deref()),
            Some("organization.colour")
        );
        let e = parse_json::<Body>(br#"{"organization":{"name":"x"}}"#).err();
        assert_eq!(e.as_ref().and_then(|e| e.field.as_deref()), Some("email"));
        let e = parse_json::<Body>(br#"{"email":5,"organization":{"name":"x"}}"#).err();
        assert_eq!(e.as_ref().and_then(|e| e.field.as_deref()), Some("email"));
        let e = parse_json::<Body>(br#"{"email":"#).err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::BadJson));
        let e = parse_json::<Body>(br#"{"email":"a","organization":{"name":"x"}} trailing"#).err();
        assert_eq!(e.map(|e| e.code), Some(ErrorCode::BadJson));
    }
}
