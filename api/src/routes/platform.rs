//! `GET /api/v1/platform/keys`: the platform's public keys, to check receipts and records.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(platform_keys))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKey {
    /// Raw Ed25519 public key, base64.
    pub public_key: String,
    /// Lowercase hex SHA-256 of the raw key.
    pub key_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformKeysResponse {
    /// Signs receipts, withdrawal receipts, opening records and audit heads.
    pub receipt_key: PublicKey,
}

/// The platform's public signing key.
#[utoipa::path(get, path = "/api/v1/platform/keys", tag = "platform", responses((status = 200, body = PlatformKeysResponse)))]
async fn platform_keys(State(state): State<AppState>) -> Json<PlatformKeysResponse> {
    let signer = state.signer();
    Json(PlatformKeysResponse {
        receipt_key: PublicKey {
            public_key: signer.public_key_base64(),
            key_id: signer.key_id().to_owned(),
        },
    })
}
