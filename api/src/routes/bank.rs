//! The collecting bank's side (docs/spec/api-contract.md "Deposits and fees"): signed payment notifications and
//! refund confirmations, suspense and refunds for operators, and the sandbox bank.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tenderhall_domain::deposit::service::{
    self as deposits, OperatorRefund, Receipt, RefundOutcome, SuspensePayment,
};
use tenderhall_domain::deposit::{
    NotificationBody, sign_notification, signature_problem, verify_notification,
};
use tenderhall_domain::id::{RefundId, TenderId};
use tenderhall_domain::money::{Currency, Money};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenders::MoneyResponse;
use super::{Items, Problem};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Auth, parse_json};
use crate::state::AppState;

/// A sandbox server signs with this when `TENDERHALL_BANK_SECRET` is not set (docs/spec/api-contract.md).
pub const SANDBOX_BANK_SECRET: &str = "sandbox-bank-secret";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(bank_notification))
        .routes(routes!(refund_confirmation))
        .routes(routes!(suspense))
        .routes(routes!(list_refunds))
        .routes(routes!(sandbox_pay))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationResponse {
    /// `credited`, `duplicate` or `suspense`.
    pub status: String,
}

/// The bank's payment notification, signed with HMAC-SHA256 over `{X-Bank-Timestamp}.{raw body}`.
/// Credited once per `bank_txn_id`; an unknown or closed account is held in suspense, never lost.
#[utoipa::path(
    post,
    path = "/api/v1/bank/notifications",
    tag = "deposits",
    request_body(content = String, description = "`{bank_txn_id, account_no, amount, currency?, paid_at, payer_name, payer_account}`", content_type = "application/json"),
    params(
        ("X-Bank-Timestamp" = String, Header, description = "unix seconds"),
        ("X-Bank-Signature" = String, Header, description = "lowercase hex HMAC-SHA256"),
    ),
    responses(
        (status = 200, body = NotificationResponse),
        (status = 401, description = "`bad_signature`, `stale_timestamp`", body = Problem),
        (status = 409, description = "`txn_conflict`: the same bank_txn_id with another body", body = Problem),
        (status = 422, description = "a non-positive or malformed amount, an unknown currency", body = Problem),
        (status = 503, description = "no bank secret configured", body = Problem),
    )
)]
async fn bank_notification(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<NotificationResponse>> {
    verify_signed(&state, &headers, &body)?;
    let receipt = accept(&state, &body).await?;
    Ok(Json(NotificationResponse {
        status: receipt.as_str().to_owned(),
    }))
}

fn bank_secret(state: &AppState) -> Option<String> {
    let settings = state.settings();
    match &settings.bank_secret {
        Some(s) => Some(s.expose().to_owned()),
        None if settings.sandbox => Some(SANDBOX_BANK_SECRET.to_owned()),
        None => None,
    }
}

/// Checks a request from the bank: `X-Bank-Signature` (HMAC-SHA256 over `{X-Bank-Timestamp}.{raw
/// body}`) and the timestamp's 5-minute window. Every signed bank call passes here.
fn verify_signed(state: &AppState, headers: &HeaderMap, body: &[u8]) -> ApiResult<()> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let Some(secret) = bank_secret(state) else {
        return Err(ApiError::unavailable(
            "Bank notifications are not configured: set TENDERHALL_BANK_SECRET.",
            "未配置银行通知：请设置 TENDERHALL_BANK_SECRET。",
        ));
    };
    verify_notification(
        secret.as_bytes(),
        header("x-bank-timestamp"),
        header("x-bank-signature"),
        body,
        state.now(),
    )
    .map_err(|e| {
        let (code, text) = signature_problem(e);
        ApiError::new(code, text)
    })
}

/// Records a verified notification: the one path every payment takes, the sandbox bank's included.
async fn accept(state: &AppState, body: &[u8]) -> ApiResult<Receipt> {
    let parsed: NotificationBody = parse_json(body)?;
    let payment = parsed.validate(state.deposits().max_notification_fen)?;
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, body));
    Ok(state.notifications().receive(payment, sha).await?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxPayRequest {
    pub account_no: String,
    /// A decimal string, e.g. `"2000.00"`.
    pub amount: String,
    /// The account paid from; default: the organization's registered basic account.
    pub payer_account: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SandboxPayResponse {
    pub bank_txn_id: String,
    /// What the notification path answered: `credited` or `suspense`.
    pub status: String,
}

/// Sandbox only: pays into a virtual account by sending a correctly signed notification through the
/// same path as the bank's.
#[utoipa::path(
    post,
    path = "/api/v1/sandbox/bank/pay",
    tag = "sandbox",
    request_body = SandboxPayRequest,
    responses((status = 200, body = SandboxPayResponse), (status = 403, description = "`sandbox_only`", body = Problem))
)]
async fn sandbox_pay(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SandboxPayRequest>,
) -> ApiResult<Json<SandboxPayResponse>> {
    if !state.settings().sandbox {
        return Err(ApiError::sandbox_only());
    }
    let amount = Money::parse(&req.amount, Currency::Cny).map_err(|e| {
        ApiError::invalid(
            "amount",
            format!("`amount` {e}."),
            "`amount` 须为十进制金额字符串，如 \"2000.00\"。",
        )
    })?;
    let payer_account = match req.payer_account {
        Some(p) => p,
        None => deposits::payer_of(state.db(), &req.account_no)
            .await?
            .unwrap_or_else(|| "SANDBOX0000".to_owned()),
    };
    let bank_txn_id = format!("SANDBOX-{}", uuid::Uuid::now_v7().simple());
    let now = state.now();
    let body = json!({
        "bank_txn_id": bank_txn_id,
        "account_no": req.account_no,
        "amount": tenderhall_domain::money::MoneyDto::from(amount).amount,
        "currency": "CNY",
        "paid_at": tenderhall_domain::time::rfc3339(now),
        "payer_name": "沙箱银行 / Sandbox bank",
        "payer_account": payer_account,
    })
    .to_string();
    let secret = bank_secret(&state).unwrap_or_else(|| SANDBOX_BANK_SECRET.to_owned());
    let timestamp = now.timestamp();
    let signature = sign_notification(secret.as_bytes(), timestamp, body.as_bytes());
    let mut headers = HeaderMap::new();
    headers.insert("x-bank-timestamp", HeaderValue::from(timestamp));
    headers.insert(
        "x-bank-signature",
        HeaderValue::from_str(&signature).map_err(tenderhall_domain::DomainError::internal)?,
    );
    verify_signed(&state, &headers, body.as_bytes())?;
    let receipt = accept(&state, body.as_bytes()).await?;
    Ok(Json(SandboxPayResponse {
        bank_txn_id,
        status: receipt.as_str().to_owned(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuspenseResponse {
    pub bank_txn_id: String,
    pub account_no: String,
    pub amount: MoneyResponse,
    pub paid_at: DateTime<Utc>,
    pub payer_name: String,
    pub payer_account: String,
    pub received_at: DateTime<Utc>,
}

impl From<SuspensePayment> for SuspenseResponse {
    fn from(p: SuspensePayment) -> Self {
        Self {
            bank_txn_id: p.bank_txn_id,
            account_no: p.account_no,
            amount: p.amount.into(),
            paid_at: p.paid_at,
            payer_name: p.payer_name,
            payer_account: p.payer_account,
            received_at: p.received_at,
        }
    }
}

/// Payments to unknown or closed accounts, held in suspense for reconciliation (operators only).
#[utoipa::path(
    get,
    path = "/api/v1/bank/suspense",
    tag = "deposits",
    security(("bearer" = [])),
    responses((status = 200, body = Items<SuspenseResponse>), (status = 403, body = Problem))
)]
async fn suspense(
    State(state): State<AppState>,
    auth: Auth,
) -> ApiResult<Json<Items<SuspenseResponse>>> {
    let items = deposits::suspense_payments(state.db(), &auth.principal).await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundConfirmation {
    pub refund_id: String,
    /// `paid` or `failed`.
    pub status: String,
    /// The bank's reference or reason.
    pub detail: Option<String>,
}

/// The bank confirms a refund it was instructed to pay, signed like its payment notifications. A
/// `paid` refund leaves the collecting account once; a `failed` one is sent again.
#[utoipa::path(
    post,
    path = "/api/v1/bank/refund-confirmations",
    tag = "deposits",
    request_body(content = RefundConfirmation, content_type = "application/json"),
    params(
        ("X-Bank-Timestamp" = String, Header, description = "unix seconds"),
        ("X-Bank-Signature" = String, Header, description = "lowercase hex HMAC-SHA256 over `{timestamp}.{raw body}`"),
    ),
    responses(
        (status = 200, body = NotificationResponse),
        (status = 401, description = "`bad_signature`, `stale_timestamp`", body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn refund_confirmation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<NotificationResponse>> {
    verify_signed(&state, &headers, &body)?;
    let confirmation: RefundConfirmation = parse_json(&body)?;
    let outcome = match confirmation.status.as_str() {
        "paid" => RefundOutcome::Paid,
        "failed" => RefundOutcome::Failed,
        _ => {
            return Err(ApiError::invalid(
                "status",
                "`status` is `paid` or `failed`.",
                "`status` 须为 `paid` 或 `failed`。",
            ));
        }
    };
    let changed = deposits::confirm_refund(
        state.db(),
        &RefundId::parse(&confirmation.refund_id)?,
        outcome,
        confirmation.detail.as_deref().unwrap_or(""),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok(Json(NotificationResponse {
        status: if changed { "recorded" } else { "duplicate" }.to_owned(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundResponse {
    pub refund_id: String,
    /// `null` until the tender's bid deadline (who paid into a tender is secret until then).
    pub tender_id: Option<String>,
    /// `null` until the tender's bid deadline.
    pub organization_id: Option<String>,
    pub account_no: String,
    /// `withdrawn`, `cancelled`, `lot_failed`, `lost`, `won`, `overpaid`; `null` until the tender's
    /// bid deadline.
    pub reason: Option<String>,
    pub principal: MoneyResponse,
    pub interest: MoneyResponse,
    /// `pending`, `instructed`, `confirmed` or `failed`.
    pub status: String,
    /// The legal deadline for the refund; `null` until the tender's bid deadline (it would date a
    /// withdrawal), as are the two times below.
    pub due_by: Option<DateTime<Utc>>,
    pub instructed_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl From<OperatorRefund> for RefundResponse {
    fn from(r: OperatorRefund) -> Self {
        Self {
            principal: Money::from_minor_units(r.principal_fen, Currency::Cny).into(),
            interest: Money::from_minor_units(r.interest_fen, Currency::Cny).into(),
            refund_id: r.id,
            tender_id: r.tender_id,
            organization_id: r.organization_id,
            account_no: r.account_no,
            reason: r.reason,
            status: r.status,
            due_by: r.due_by,
            instructed_at: r.instructed_at,
            confirmed_at: r.confirmed_at,
            last_error: r.last_error,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RefundQuery {
    pub tender_id: Option<String>,
    /// `pending`, `instructed`, `confirmed` or `failed`.
    pub status: Option<String>,
}

/// Refunds, to follow them to the bank's confirmation and to find failed ones (operators). Before a
/// tender's bid deadline its refunds show no tender, organization or reason, and listing them by
/// that tender is 409 `deadline_not_passed`.
#[utoipa::path(
    get,
    path = "/api/v1/bank/refunds",
    tag = "deposits",
    security(("bearer" = [])),
    params(RefundQuery),
    responses((status = 200, body = Items<RefundResponse>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem))
)]
async fn list_refunds(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<RefundQuery>,
) -> ApiResult<Json<Items<RefundResponse>>> {
    auth.principal.require_operator()?;
    let tender = match query.tender_id.as_deref().map(TenderId::parse).transpose() {
        Ok(tender) => tender,
        // A filter that is no id matches no refund: an empty list, as when it was compared as text.
        Err(_) => return Ok(Json(Items { items: Vec::new() })),
    };
    let items = deposits::operator_refunds(
        state.db(),
        tender.as_ref(),
        query.status.as_deref(),
        state.now(),
    )
    .await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}
