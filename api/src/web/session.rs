//! Who is looking at a page: the language, the signed-in account (a session cookie), and the
//! form token every form carries (docs/portal.md "Sessions and forms").
//!
//! The session cookie holds the same token a `POST /api/v1/sessions` answers, so one sign-in
//! works for the pages and, with the `X-CSRF-Token` header, for the API calls a page's script
//! makes. Every cookie is `HttpOnly; Secure; SameSite=Lax`.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use tenderhall_domain::account::Principal;
use tenderhall_domain::account::service::authenticate;

use super::i18n::Tr;
use crate::extract::Lang;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "th_session";
pub const CSRF_COOKIE: &str = "th_csrf";
pub const LANG_COOKIE: &str = "th_lang";
/// The header a page's script sends its form token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name`, from any `Cookie` header.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age_seconds}"
    ))
    .ok()
}

/// The form token of a visitor: an HMAC of its random seed cookie under a key derived from the
/// master key, so every node checks it and no page of another site can know it.
pub fn csrf_token(key: &hmac::Key, seed: &str) -> String {
    URL_SAFE_NO_PAD.encode(hmac::sign(key, format!("csrf|{seed}").as_bytes()))
}

/// Whether `token` is the form token of `seed` (compared in constant time).
pub fn csrf_ok(key: &hmac::Key, seed: &str, token: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(token.trim())
        .is_ok_and(|tag| hmac::verify(key, format!("csrf|{seed}").as_bytes(), &tag).is_ok())
}

/// The seed this request runs with: the cookie's, or one minted by [`ensure_csrf_seed`].
#[derive(Debug, Clone)]
struct CsrfSeed(String);

fn seed_of(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<CsrfSeed>()
        .map(|s| s.0.clone())
        .or_else(|| cookie(&parts.headers, CSRF_COOKIE).map(str::to_owned))
}

/// Whether a request signed in by cookie carries its page's token in the header.
pub fn header_token_ok(key: &hmac::Key, headers: &HeaderMap) -> bool {
    let (Some(seed), Some(token)) = (
        cookie(headers, CSRF_COOKIE),
        headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    csrf_ok(key, seed, token)
}

/// Gives a visitor without one a random seed cookie, so the first page it sees already has
/// working forms.
pub async fn ensure_csrf_seed(mut request: Request, next: Next) -> Response {
    if cookie(request.headers(), CSRF_COOKIE).is_some() {
        return next.run(request).await;
    }
    let mut bytes = [0u8; 32];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        return next.run(request).await;
    }
    let seed = URL_SAFE_NO_PAD.encode(bytes);
    request.extensions_mut().insert(CsrfSeed(seed.clone()));
    let mut response = next.run(request).await;
    // A year: the seed is no secret on its own, it only ties forms to this browser.
    if let Some(v) = set_cookie(CSRF_COOKIE, &seed, 365 * 24 * 3600) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The portal's language: the visitor's choice, else `Accept-Language`, else Chinese.
pub fn portal_lang(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => Lang::En,
        Some("zh-CN") => Lang::Zh,
        _ => Lang::preferred(headers).unwrap_or(Lang::Zh),
    }
}

/// A page's visitor.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub tr: Tr,
    pub principal: Option<Principal>,
    /// The session token, to sign out with.
    pub token: Option<String>,
    /// The token every form of the page carries.
    pub csrf: String,
    /// The path and query of the page, to come back to after a language switch or a sign-in.
    pub here: String,
}

impl Visitor {
    pub fn signed_in(&self) -> bool {
        self.principal.is_some()
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let tr = Tr::new(portal_lang(&parts.headers));
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned);
        // An expired or signed-out session is simply nobody.
        let principal = match &token {
            Some(t) => authenticate(state.db(), t, state.now()).await.ok(),
            None => None,
        };
        let csrf = seed_of(parts)
            .map(|seed| csrf_token(state.web_key(), &seed))
            .unwrap_or_default();
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Self {
            tr,
            token: principal.as_ref().and(token),
            principal,
            csrf,
            here,
        })
    }
}

/// Keeps a redirect target on this site: a path, never `//host` or a scheme.
pub fn local_path(target: &str) -> String {
    if target.starts_with('/') && !target.starts_with("//") && !target.contains('\\') {
        target.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key() -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, b"test key")
    }

    #[test]
    fn a_form_token_fits_its_own_seed_only() {
        let token = csrf_token(&key(), "seed-a");
        assert!(csrf_ok(&key(), "seed-a", &token));
        assert!(!csrf_ok(&key(), "seed-b", &token));
        assert!(!csrf_ok(&key(), "seed-a", ""));
        assert!(!csrf_ok(
            &hmac::Key::new(hmac::HMAC_SHA256, b"other"),
            "seed-a",
            &token
        ));
    }

    #[test]
    fn cookies_are_read_from_every_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; th_lang=en"));
        headers.append(header::COOKIE, HeaderValue::from_static("th_session=xyz"));
        assert_eq!(cookie(&headers, "th_lang"), Some("en"));
        assert_eq!(cookie(&headers, "th_session"), Some("xyz"));
        assert_eq!(cookie(&headers, "th_csrf"), None);
        assert_eq!(portal_lang(&headers), Lang::En);
    }

    #[test]
    fn the_portal_speaks_chinese_unless_the_visitor_prefers_english() {
        let mut headers = HeaderMap::new();
        assert_eq!(portal_lang(&headers), Lang::Zh);
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr, en;q=0.5"),
        );
        assert_eq!(portal_lang(&headers), Lang::En);
        headers.insert(header::COOKIE, HeaderValue::from_static("th_lang=zh-CN"));
        assert_eq!(portal_lang(&headers), Lang::Zh);
    }

    #[test]
    fn a_redirect_never_leaves_the_site() {
        assert_eq!(local_path("/tenders/x?y=1"), "/tenders/x?y=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
    }
}
