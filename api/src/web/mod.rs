//! The web portal (docs/portal.md): server-rendered pages over the same domain services as the
//! API, so a page adds no rule of its own. Templates are askama's, checked at compile time; the
//! words come from one catalogue in both languages; styles and scripts are embedded in the binary.

mod accounts;
mod assets;
mod bidder;
mod form;
mod hall;
pub mod i18n;
pub mod session;
mod tender;
mod workbench;

use askama::Template;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::AppState;
use i18n::Tr;
use session::Visitor;

/// The pages, with the headers every page gets; `max_document_bytes` bounds the workbench's
/// document upload as it bounds the API's.
pub fn router(max_document_bytes: u64) -> Router<AppState> {
    let upload_limit = usize::try_from(max_document_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/", get(hall::hall))
        .route("/keys", get(hall::keys))
        .route("/tenders/{id}", get(tender::page))
        .route("/language", post(accounts::switch_language))
        .route("/signup", get(accounts::signup_page).post(accounts::signup))
        .route("/signin", get(accounts::signin_page).post(accounts::signin))
        .route("/signout", post(accounts::signout))
        .route(
            "/forgot-password",
            get(accounts::forgot_page).post(accounts::forgot),
        )
        .route(
            "/reset-password",
            get(accounts::reset_page).post(accounts::reset),
        )
        .route("/account", get(accounts::account_page))
        .route("/account/language", post(accounts::account_language))
        .route(
            "/account/notifications/{id}/read",
            post(accounts::notification_read),
        )
        .route("/workbench", get(workbench::workbench))
        .route(
            "/workbench/tenders/new",
            get(workbench::new_tender_page_get).post(workbench::create),
        )
        .route("/workbench/tenders/{id}", get(workbench::manage))
        .route("/workbench/tenders/{id}/publish", post(workbench::publish))
        .route(
            "/workbench/tenders/{id}/documents",
            post(workbench::upload).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/workbench/tenders/{id}/documents/{document}",
            get(bidder::download),
        )
        .route(
            "/workbench/tenders/{id}/questions/{question}/answer",
            post(workbench::answer),
        )
        .route("/workbench/tenders/{id}/amendments", post(workbench::amend))
        .route("/workbench/tenders/{id}/cancel", post(workbench::cancel))
        .route("/workbench/bids/{tender}/{lot}", get(bidder::bid))
        .route(
            "/workbench/bids/{tender}/{lot}/register",
            post(bidder::register),
        )
        .route("/workbench/bids/{tender}/{lot}/fee", post(bidder::fee))
        .route("/workbench/bids/{tender}/{lot}/question", post(bidder::ask))
        .route(
            "/workbench/bids/{tender}/{lot}/withdraw",
            post(bidder::withdraw),
        )
        .route("/assets/{name}", get(assets::asset))
        .layer(axum::middleware::from_fn(render_page_errors))
        .layer(axum::middleware::from_fn(session::ensure_csrf_seed))
        .layer(axum::middleware::from_fn(security_headers))
}

/// What the frame of every page needs: the words, the visitor, the form token.
#[derive(Debug, Clone)]
pub struct Frame {
    pub tr: Tr,
    pub csrf: String,
    pub here: String,
    /// The signed-in person's name and organization kind, for the header.
    pub user: Option<String>,
    pub org_kind: Option<String>,
    pub sandbox: bool,
    /// The server's time as the page was made, for the countdowns.
    pub now: String,
}

impl Frame {
    pub fn new(visitor: &Visitor, state: &AppState) -> Self {
        Self {
            tr: visitor.tr,
            csrf: visitor.csrf.clone(),
            here: visitor.here.clone(),
            user: visitor.principal.as_ref().map(|p| p.name.clone()),
            org_kind: visitor
                .principal
                .as_ref()
                .and_then(|p| p.membership.as_ref())
                .map(|m| m.kind.as_str().to_owned()),
            sandbox: state.settings().sandbox,
            now: state.now().to_rfc3339(),
        }
    }
}

/// A rendered page, or a refusal rendered as a page.
pub type PageResult<T = Response> = Result<T, PageError>;

/// Renders a template into a page response.
pub fn render(page: &impl Template) -> PageResult {
    page.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| {
            tracing::error!(error = %e, "a page template failed");
            PageError(ApiError::internal())
        })
}

/// A redirect after a form (303, so the browser follows with GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(&session::local_path(to)).into_response()
}

/// A refusal on a page: rendered by [`render_page_errors`] in the visitor's language, with the
/// same stable code and sentence the API gives.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut response = self.0.status().into_response();
        response.extensions_mut().insert(self.0);
        response
    }
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    frame: Frame,
    status: u16,
    code: &'static str,
    title: String,
    detail: String,
}

/// Turns a [`PageError`] into the error page, in the visitor's language.
async fn render_page_errors(request: Request, next: Next) -> Response {
    let tr = Tr::new(session::portal_lang(request.headers()));
    let here = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let Some(error) = response.extensions_mut().remove::<ApiError>() else {
        return response;
    };
    let (title_en, title_zh) = error.code.title();
    let (title, detail) = if tr.is_zh() {
        (title_zh, error.detail.zh.clone())
    } else {
        (title_en, error.detail.en.clone())
    };
    let page = ErrorPage {
        frame: Frame {
            tr,
            csrf: String::new(),
            here,
            user: None,
            org_kind: None,
            sandbox: false,
            now: chrono::Utc::now().to_rfc3339(),
        },
        status: error.status().as_u16(),
        code: error.code.as_str(),
        title: title.to_owned(),
        detail,
    };
    match page.render() {
        Ok(html) => (error.status(), Html(html)).into_response(),
        Err(_) => error.status().into_response(),
    }
}

/// The Content Security Policy of every page: no inline script or style, nothing from another
/// origin, no framing, forms only to this site. `wasm-unsafe-eval` lets the bid page compile its own
/// SHA-256 (`/assets/sha256.wasm`); it allows no JavaScript `eval`.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "same-origin");
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages carry a form token and a person's data: never kept by a shared cache.
        set(headers, header::CACHE_CONTROL, "private, no-cache");
    }
    response
}
