//! The OpenAPI document, generated from the handlers, and a browsable page that works offline
//! (Swagger UI's files are compiled into the binary).

use axum::Router;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa_swagger_ui::SwaggerUi;

use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Tenderhall API",
        description = "Electronic public-resource trading platform (电子化公共资源交易平台). Errors are RFC 9457 problems with a stable `code`; `title` and `detail` follow `Accept-Language` (zh-CN or en).",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "accounts", description = "Accounts and sessions"),
        (name = "organizations", description = "Organizations, verification, signing keys"),
        (name = "platform", description = "Platform keys"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "tenders", description = "Tenders and lots"),
        (name = "auctions", description = "Live auctions (竞价): listing, english, dutch, reverse"),
        (name = "procedures", description = "The procedure table and the holiday calendar"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
struct ApiDoc;

pub fn base() -> OpenApi {
    let mut doc = <ApiDoc as utoipa::OpenApi>::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}

/// `/api/v1/openapi.json` and the page at `/api/v1/docs/`.
pub fn docs_router(doc: OpenApi) -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", conform(doc)))
}

/// The refusals every operation of a kind can answer, whether or not its handler lists them:
/// a JSON body that is not JSON (400), too large (413), of another type (415) or breaking a rule
/// (422); a query that does not parse (422); a missing or expired token (401) and a role that may
/// not (403) on a secured call; an unknown id in the path (404).
fn implied_refusals(op: &Operation, path: &str) -> Vec<(&'static str, &'static str)> {
    let mut implied = Vec::new();
    if op.request_body.is_some() {
        implied.extend([
            ("400", "`bad_json`: the body is not what the call takes"),
            ("413", "`too_large`: the body is over the limit"),
            (
                "415",
                "`unsupported_media_type`: the body is sent as another type",
            ),
            ("422", "`invalid` (with `field`): a value breaks a rule"),
        ]);
    }
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    if has_query {
        implied.push((
            "422",
            "`invalid` (with `field`): a query parameter breaks a rule",
        ));
    }
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        implied.extend([
            (
                "401",
                "`unauthenticated`: no token, or an expired or revoked one",
            ),
            (
                "403",
                "`forbidden`, `org_unverified`: the caller may not do this",
            ),
        ]);
    }
    if path.contains('{') {
        implied.push((
            "404",
            "`not_found`: nothing there, or nothing the caller may know of",
        ));
    }
    implied
}

/// Makes the document say what the server answers: every refusal is `application/problem+json`
/// (RFC 9457) with the `Problem` schema, and the refusals an operation can give by its kind are
/// listed on it ([`implied_refusals`]).
fn conform(mut doc: OpenApi) -> OpenApi {
    let problem = || {
        let mut content = Content::new(Some(Ref::from_schema_name("Problem")));
        content.example = None;
        content
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            for (status, description) in implied_refusals(op, path) {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::T(Response::new(description)));
            }
            for (status, response) in op.responses.responses.iter_mut() {
                let refusal = status.starts_with('4') || status.starts_with('5');
                if let (true, RefOr::T(response)) = (refusal, response) {
                    response.content.clear();
                    response
                        .content
                        .insert("application/problem+json".to_owned(), problem());
                }
            }
        }
    }
    doc
}
