//! The OpenAPI document, generated from the handlers, and a browsable page that works offline
//! (Swagger UI's files are compiled into the binary).

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
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
    Router::new().merge(SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", doc))
}
