//! Sealed bids over HTTP (docs/spec/api-contract.md "Registration, bids and the opening"; docs/spec/envelope.md): the
//! envelope streams to the store's staging while a blocking thread checks it; only a verified
//! envelope is committed, and the signed receipt comes after the commit.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use futures_util::StreamExt as _;
use serde::Serialize;
use tenderhall_domain::account::OrganizationKind;
use tenderhall_domain::bid::envelope::{self, EnvelopeError, Expect};
use tenderhall_domain::bid::submission::{self, Intake, Receipt};
use tenderhall_domain::error::ErrorCode;
use tenderhall_domain::error::Text;
use tenderhall_domain::id::{LotId, OrganizationId, TenderId};
use tenderhall_domain::ports::ByteStream;
use tenderhall_workers::docstore::BlockingRead;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_bid, get_bid, withdraw_bid))
        .routes(routes!(revoke_bid))
        .routes(routes!(opening_record))
        .routes(routes!(opened_bid))
}

/// A receipt (回执) or withdrawal receipt, signed by the platform key (docs/spec/receipts-and-records.md "Receipt").
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptResponse {
    pub tender: String,
    pub lot: String,
    pub bidder: String,
    pub envelope_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<String>,
    pub seq: i64,
    pub platform_key: String,
    /// Ed25519 (base64) over the canonical JSON of the other fields.
    pub signature: String,
}

impl From<Receipt> for ReceiptResponse {
    fn from(r: Receipt) -> Self {
        Self {
            tender: r.tender,
            lot: r.lot,
            bidder: r.bidder,
            envelope_sha256: r.envelope_sha256,
            size: r.size,
            received_at: r.received_at,
            withdrawn_at: r.withdrawn_at,
            seq: r.seq,
            platform_key: r.platform_key,
            signature: r.signature,
        }
    }
}

fn envelope_problem(e: &EnvelopeError) -> ApiError {
    let code = match e.code() {
        "wrong_recipient" => ErrorCode::WrongRecipient,
        "bad_signature" => ErrorCode::BadBidSignature,
        _ => ErrorCode::BadEnvelope,
    };
    ApiError::new(
        code,
        Text::new(
            format!("The envelope was refused: {e}. Nothing was kept."),
            format!("投标文件被拒绝：{e}。未保存任何内容。"),
        ),
    )
}

/// Submit or replace the caller's sealed bid for a lot (a registered bidder, before the deadline).
#[utoipa::path(
    put,
    path = "/api/v1/tenders/{id}/lots/{lot}/bid",
    tag = "bids",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body(content_type = "application/vnd.tenderhall.bid", description = "the envelope (docs/spec/envelope.md)"),
    responses(
        (status = 201, body = ReceiptResponse),
        (status = 409, description = "`deadline_passed`", body = Problem),
        (status = 413, description = "`too_large`", body = Problem),
        (status = 422, description = "`bad_envelope`, `wrong_recipient`, `bad_signature`, `not_registered`", body = Problem),
    )
)]
async fn submit_bid(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<ReceiptResponse>)> {
    let (tender, lot) = bidder_path(&auth, &id, &lot)?;
    let intake =
        submission::prepare(state.db(), &auth.principal, &tender, &lot, state.now()).await?;
    let limit = state.settings().max_bid_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(
            usize::try_from(limit).unwrap_or(usize::MAX),
        ));
    }
    let (checked, stored) = stream_and_check(&state, &intake, body, limit).await?;
    let receipt = submission::record(
        state.db(),
        state.signer(),
        &intake,
        &checked,
        &stored,
        Some(ip),
        state.clock().as_ref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(receipt.into())))
}

/// The tender and lot of a bidder's own route. Who may bid is answered (403) before the ids are
/// read, whatever they name, as the services did when they took the ids as strings.
fn bidder_path(auth: &Auth, tender: &str, lot: &str) -> ApiResult<(TenderId, LotId)> {
    auth.principal.require_kind(&[OrganizationKind::Bidder])?;
    Ok((TenderId::parse(tender)?, LotId::parse(lot)?))
}

/// Streams the body into the store and, at the same time, through the envelope check on a
/// blocking thread. The store sees the end of the stream only once the check has passed and the
/// deadline has not: otherwise the stream ends in an error and the store keeps nothing.
pub(super) async fn stream_and_check(
    state: &AppState,
    intake: &Intake,
    body: Body,
    limit: u64,
) -> ApiResult<(envelope::Checked, tenderhall_domain::ports::StoredObject)> {
    let (to_check, check_rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(8);
    let expect_intake = intake.clone();
    let checker = tokio::task::spawn_blocking(move || {
        let signer = |key_id: &str| expect_intake.signers.get(key_id).cloned();
        let expect = Expect {
            tender: &expect_intake.tender_id,
            lot: &expect_intake.lot_id,
            bidder: &expect_intake.organization_id,
            recipient: &expect_intake.recipient,
            signer: &signer,
        };
        envelope::check(BlockingRead::new(check_rx), &expect)
    });
    let (to_store, store_rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let stream: ByteStream = Box::pin(futures_util::stream::unfold(
        store_rx,
        |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
    ));
    let store = state.store().clone();
    let put = tokio::spawn(async move { store.put(stream, limit).await });

    let mut body = body.into_data_stream();
    let mut received = 0u64;
    let mut failure: Option<ApiError> = None;
    while let Some(piece) = body.next().await {
        let piece = match piece {
            Ok(piece) => piece,
            Err(e) => {
                failure = Some(ApiError::new(
                    ErrorCode::BadUpload,
                    Text::new(
                        format!("The upload broke off: {e}. Nothing was kept."),
                        format!("上传中断：{e}。未保存任何内容。"),
                    ),
                ));
                break;
            }
        };
        received += piece.len() as u64;
        if received > limit {
            failure = Some(ApiError::too_large(
                usize::try_from(limit).unwrap_or(usize::MAX),
            ));
            break;
        }
        // The checker may stop early (a bad header): the rest still goes to the store, which is
        // told below to drop it.
        let _ = to_check.send(Ok(piece.clone())).await;
        if to_store.send(Ok(piece)).await.is_err() {
            break;
        }
    }
    drop(to_check);
    let verdict = checker.await.map_err(|e| {
        tracing::error!(error = %e, "envelope check task");
        ApiError::internal()
    })?;
    let outcome = match (failure, verdict) {
        (Some(failure), _) => Err(failure),
        (None, Err(e)) => Err(envelope_problem(&e)),
        (None, Ok(_)) if submission::upload_too_late(intake, state.now()) => {
            Err(ApiError::from(submission::deadline_passed()))
        }
        (None, Ok(checked)) => Ok(checked),
    };
    match outcome {
        Ok(checked) => {
            drop(to_store);
            let stored = put
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "store task");
                    ApiError::internal()
                })?
                .map_err(super::documents::store_error)?;
            Ok((checked, stored))
        }
        Err(problem) => {
            let _ = to_store
                .send(Err(std::io::Error::other("the envelope was refused")))
                .await;
            drop(to_store);
            let _ = put.await;
            Err(problem)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BidResponse {
    pub receipt: ReceiptResponse,
    /// `paid`, `partial`, `unpaid` or `guarantee`, as of now.
    pub deposit_status: String,
}

/// The caller's current bid: its receipt and its deposit status (that bidder only).
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/bid",
    tag = "bids",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, body = BidResponse), (status = 404, body = Problem))
)]
async fn get_bid(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<BidResponse>> {
    let (tender, lot) = bidder_path(&auth, &id, &lot)?;
    let (_, receipt) = submission::current(state.db(), &auth.principal, &tender, &lot).await?;
    let deposit_status = tenderhall_domain::deposit::service::own_deposit_status(
        state.db(),
        &auth.principal,
        &tender,
        &lot,
    )
    .await?;
    Ok(Json(BidResponse {
        receipt: receipt.into(),
        deposit_status: deposit_status.as_str().to_owned(),
    }))
}

/// Withdraw (撤回) the caller's bid before the deadline: 200 with the signed withdrawal receipt. The
/// deposit paid so far goes back with interest within 5 days (实施条例 Art 35); a new bid reopens the
/// deposit account for payment.
#[utoipa::path(
    delete,
    path = "/api/v1/tenders/{id}/lots/{lot}/bid",
    tag = "bids",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses(
        (status = 200, body = ReceiptResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`deadline_passed`", body = Problem),
    )
)]
async fn withdraw_bid(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<ReceiptResponse>> {
    // The lot is not parsed here: after the deadline any lot is answered 409 (see `withdraw`).
    let receipt = submission::withdraw(
        state.db(),
        state.signer(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &lot,
        state.deposits().interest_rate,
        Some(ip),
        state.clock().as_ref(),
    )
    .await?;
    Ok(Json(receipt.into()))
}

/// The signed opening record of a lot (anyone), once it opened or failed; 409 `not_opened` before.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/opening",
    tag = "bids",
    params(("id" = String, Path), ("lot" = String, Path)),
    responses(
        (status = 200, description = "the opening record of docs/spec/receipts-and-records.md", body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`not_opened`", body = Problem),
    )
)]
async fn opening_record(
    State(state): State<AppState>,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let tender_id = TenderId::parse(&id)?;
    let tender = tenderhall_domain::tender::service::get(state.db(), None, &tender_id).await?;
    let lot = LotId::parse(&lot)?;
    if !tender.lots.iter().any(|l| l.id == lot.as_str()) {
        return Err(ApiError::not_found());
    }
    match tenderhall_domain::bid::opening::published_record(state.db(), &tender_id, &lot).await? {
        Some(record) => Ok(Json(record)),
        None => Err(ApiError::from(tenderhall_domain::DomainError::Refused {
            code: ErrorCode::NotOpened,
            message: Text::new(
                "This lot has not been opened yet: the record is published at the opening.",
                "该标段尚未开标，开标记录于开标时公布。",
            ),
        })),
    }
}

/// Revoke (撤销) the caller's bid after the deadline: it no longer counts and its deposit is
/// forfeited (实施条例 Art 35).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/bid/revoke",
    tag = "bids",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses(
        (status = 200, body = RevokedResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`deadline_not_passed`: withdraw instead", body = Problem),
    )
)]
async fn revoke_bid(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<RevokedResponse>> {
    // Who may revoke is answered (403) before the tender's id is read; the lot is not parsed:
    // before the deadline any lot is answered 409 (see `revoke`).
    auth.principal.require_kind(&[OrganizationKind::Bidder])?;
    submission::revoke(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &lot,
        Some(ip),
        state.clock().as_ref(),
    )
    .await?;
    Ok(Json(RevokedResponse {
        status: "revoked".to_owned(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedResponse {
    /// `revoked`.
    pub status: String,
}

/// A decrypted bid after the opening, as the ustar archive the bidder sealed: the bidder its own,
/// the tenderer and supervisors every one; 404 for anybody else or before the opening.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/bids/{bidder}/archive",
    tag = "bids",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("bidder" = String, Path)),
    responses(
        (status = 200, content_type = "application/x-tar", description = "price.json first, then the bid's files"),
        (status = 404, body = Problem),
    )
)]
async fn opened_bid(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot, bidder)): Path<(String, String, String)>,
) -> ApiResult<axum::response::Response> {
    let archive = tenderhall_domain::bid::opening::opened_archive(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &OrganizationId::parse(&bidder)?,
    )
    .await?;
    let stream = state
        .store()
        .get(&archive.plaintext_sha256)
        .await
        .map_err(super::documents::store_error)?;
    let mut response = axum::response::Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/x-tar"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&format!(
        "attachment; filename=\"{id}-{lot}-{}.tar\"",
        archive.organization_id
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
