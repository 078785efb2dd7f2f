//! Registration, fee accounts, the bank's notifications, the deposits view, payment flags and the
//! sandbox bank (API.md "Registration…", "Deposits and fees").

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tenderhall_domain::deposit::service::{
    self as deposits, DepositLine, Flag, Receipt, RefundOutcome, RefundView, Registration,
    SuspensePayment, VirtualAccount,
};
use tenderhall_domain::deposit::{
    NotificationBody, sign_notification, signature_problem, verify_notification,
};
use tenderhall_domain::money::{Currency, Money};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use super::tenders::MoneyResponse;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Auth, ClientIp, parse_json};
use crate::state::AppState;

/// A sandbox server signs with this when `TENDERHALL_BANK_SECRET` is not set (API.md).
pub const SANDBOX_BANK_SECRET: &str = "sandbox-bank-secret";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(document_fee))
        .routes(routes!(bank_notification))
        .routes(routes!(lot_deposits))
        .routes(routes!(tender_flags))
        .routes(routes!(sandbox_pay))
        .routes(routes!(suspense))
        .routes(routes!(withdraw_registration))
        .routes(routes!(refund_confirmation))
        .routes(routes!(list_refunds))
        .routes(routes!(register_issuer))
        .routes(routes!(present_guarantee))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountResponse {
    /// The virtual sub-account (虚拟子账号) to pay into: 18 digits, the last a check digit.
    pub account_no: String,
    pub amount_due: MoneyResponse,
}

impl From<VirtualAccount> for AccountResponse {
    fn from(a: VirtualAccount) -> Self {
        Self {
            account_no: a.account_no,
            amount_due: a.amount_due.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationResponse {
    pub registration_id: String,
    pub tender_id: String,
    pub lot_id: String,
    pub organization_id: String,
    pub deposit_account: AccountResponse,
    pub created_at: DateTime<Utc>,
}

impl From<Registration> for RegistrationResponse {
    fn from(r: Registration) -> Self {
        Self {
            registration_id: r.id,
            tender_id: r.tender_id,
            lot_id: r.lot_id,
            organization_id: r.organization_id,
            deposit_account: r.deposit_account.into(),
            created_at: r.created_at,
        }
    }
}

fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// Register for a lot (a verified bidder, before the deadline): the deposit's virtual account.
/// Registering again answers 200 with the same registration. Registration is never needed to
/// download documents (电子招标投标办法 Art 20), and stays secret until the deadline (Art 21).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/registrations",
    tag = "deposits",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses(
        (status = 201, body = RegistrationResponse),
        (status = 200, description = "already registered: the same registration", body = RegistrationResponse),
        (status = 403, description = "`forbidden` (not a bidder), `org_unverified`", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "`deadline_passed`, `lot_not_active`", body = Problem),
    )
)]
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<RegistrationResponse>)> {
    let (registration, created) = deposits::register(
        state.db(),
        &auth.principal,
        &id,
        &lot,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((created_or_ok(created), Json(registration.into())))
}

/// The organization's document fee account for this tender (a bidder; no registration needed).
/// Documents answer 402 `fee_unpaid` until the fee has arrived.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/document-fee",
    tag = "deposits",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 201, body = AccountResponse),
        (status = 200, description = "the account given before", body = AccountResponse),
        (status = 409, description = "`no_document_fee`, `deadline_passed`", body = Problem),
    )
)]
async fn document_fee(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<AccountResponse>)> {
    let (account, created) =
        deposits::fee_account(state.db(), &auth.principal, &id, Some(ip), state.now()).await?;
    Ok((created_or_ok(created), Json(account.into())))
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
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let receipt = accept(
        &state,
        &header("x-bank-timestamp"),
        &header("x-bank-signature"),
        &body,
    )
    .await?;
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

/// The one path every notification takes, the sandbox bank's included.
async fn accept(
    state: &AppState,
    timestamp: &str,
    signature: &str,
    body: &[u8],
) -> ApiResult<Receipt> {
    let Some(secret) = bank_secret(state) else {
        return Err(ApiError::unavailable(
            "Bank notifications are not configured: set TENDERHALL_BANK_SECRET.",
            "未配置银行通知：请设置 TENDERHALL_BANK_SECRET。",
        ));
    };
    if let Err(e) = verify_notification(secret.as_bytes(), timestamp, signature, body, state.now())
    {
        let (code, text) = signature_problem(e);
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, code, text));
    }
    let parsed: NotificationBody = parse_json(body)?;
    let payment = parsed.validate()?;
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, body));
    Ok(deposits::receive(state.db(), payment, &sha, state.now()).await?)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlagResponse {
    /// `payer_mismatch` (实施条例 Art 26) or `shared_payer` (实施条例 Art 40).
    pub kind: String,
    pub lot_id: String,
    pub organization_id: String,
    pub account_no: String,
    pub payer_account: String,
    pub detail: String,
    pub raised_at: DateTime<Utc>,
}

impl From<Flag> for FlagResponse {
    fn from(f: Flag) -> Self {
        Self {
            kind: f.kind,
            lot_id: f.lot_id,
            organization_id: f.organization_id,
            account_no: f.account_no,
            payer_account: f.payer_account,
            detail: f.detail,
            raised_at: f.raised_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepositResponse {
    pub registration_id: String,
    pub organization_id: String,
    pub account_no: String,
    pub due: MoneyResponse,
    /// As of the bid deadline: `paid`, `partial`, `unpaid` or `guarantee`.
    pub status: String,
    pub paid_by_deadline: MoneyResponse,
    pub paid: MoneyResponse,
    /// What the platform still holds for the bidder (paid less refunded and forfeited).
    pub held: MoneyResponse,
    /// Refunded so far (principal; the interest is paid on top).
    pub refunded: MoneyResponse,
    /// Kept: a bid revoked after the deadline, or a winner who refused to sign.
    pub forfeited: MoneyResponse,
    /// Supervisors only; empty for the owner.
    pub flags: Vec<FlagResponse>,
}

impl From<DepositLine> for DepositResponse {
    fn from(d: DepositLine) -> Self {
        Self {
            registration_id: d.registration.id,
            organization_id: d.registration.organization_id,
            account_no: d.registration.deposit_account.account_no,
            due: d.registration.deposit_account.amount_due.into(),
            status: d.status_at_deadline.as_str().to_owned(),
            paid_by_deadline: d.paid_by_deadline.into(),
            paid: d.paid.into(),
            held: d.held.into(),
            refunded: d.refunded.into(),
            forfeited: d.forfeited.into(),
            flags: d.flags.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// Each registration's deposit: the owner and supervisors, after the bid deadline.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/deposits",
    tag = "deposits",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, body = Items<DepositResponse>), (status = 403, body = Problem), (status = 404, body = Problem))
)]
async fn lot_deposits(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<Items<DepositResponse>>> {
    let lines = deposits::lot_deposits(state.db(), &auth.principal, &id, &lot, state.now()).await?;
    Ok(Json(Items {
        items: lines.into_iter().map(Into::into).collect(),
    }))
}

/// Payment flags of a tender (supervisors only, at any time): payers other than the basic account,
/// and one account paying for several bidders.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/flags",
    tag = "deposits",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Items<FlagResponse>), (status = 403, body = Problem))
)]
async fn tender_flags(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Items<FlagResponse>>> {
    let flags = deposits::tender_flags(state.db(), &auth.principal, &id).await?;
    Ok(Json(Items {
        items: flags.into_iter().map(Into::into).collect(),
    }))
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
    let receipt = accept(&state, &timestamp.to_string(), &signature, body.as_bytes()).await?;
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

fn interest_rate(state: &AppState) -> ApiResult<rust_decimal::Decimal> {
    state
        .settings()
        .interest_rate()
        .map_err(|e| tenderhall_domain::DomainError::internal(e).into())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalResponse {
    pub registration_id: String,
    /// The refund of the deposit paid so far (within 5 days, 实施条例 Art 35), if anything was paid.
    pub refund_id: Option<String>,
}

/// Withdraw a registration before the bid deadline (the registered bidder): the deposit paid is
/// refunded with interest within 5 days (实施条例 Art 35).
#[utoipa::path(
    delete,
    path = "/api/v1/tenders/{id}/lots/{lot}/registrations/{registration_id}",
    tag = "deposits",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("registration_id" = String, Path)),
    responses(
        (status = 200, body = WithdrawalResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`deadline_passed`, `already_withdrawn`", body = Problem),
    )
)]
async fn withdraw_registration(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, _lot, registration_id)): Path<(String, String, String)>,
) -> ApiResult<Json<WithdrawalResponse>> {
    let refund_id = deposits::withdraw_registration(
        state.db(),
        &auth.principal,
        &id,
        &registration_id,
        interest_rate(&state)?,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok(Json(WithdrawalResponse {
        registration_id,
        refund_id,
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
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let Some(secret) = bank_secret(&state) else {
        return Err(ApiError::unavailable(
            "Bank notifications are not configured: set TENDERHALL_BANK_SECRET.",
            "未配置银行通知：请设置 TENDERHALL_BANK_SECRET。",
        ));
    };
    if let Err(e) = verify_notification(
        secret.as_bytes(),
        &header("x-bank-timestamp"),
        &header("x-bank-signature"),
        &body,
        state.now(),
    ) {
        let (code, text) = signature_problem(e);
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, code, text));
    }
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
        &confirmation.refund_id,
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
    pub tender_id: String,
    pub organization_id: String,
    pub account_no: String,
    /// `withdrawn`, `cancelled`, `lot_failed`, `lost`, `won`, `overpaid`.
    pub reason: String,
    pub principal: MoneyResponse,
    pub interest: MoneyResponse,
    /// `pending`, `instructed`, `confirmed` or `failed`.
    pub status: String,
    /// The legal deadline for the refund.
    pub due_by: DateTime<Utc>,
    pub instructed_at: Option<DateTime<Utc>>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl From<RefundView> for RefundResponse {
    fn from(r: RefundView) -> Self {
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

/// Refunds, to follow them to the bank's confirmation and to find failed ones (operators).
#[utoipa::path(
    get,
    path = "/api/v1/bank/refunds",
    tag = "deposits",
    security(("bearer" = [])),
    params(RefundQuery),
    responses((status = 200, body = Items<RefundResponse>), (status = 403, body = Problem))
)]
async fn list_refunds(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<RefundQuery>,
) -> ApiResult<Json<Items<RefundResponse>>> {
    auth.principal.require_operator()?;
    let items = deposits::list_refunds(
        state.db(),
        query.tender_id.as_deref(),
        query.status.as_deref(),
    )
    .await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuerRequest {
    /// The bank or guarantee company.
    pub name: String,
    /// Raw Ed25519 public key (32 bytes), base64.
    pub public_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerResponse {
    /// Hex SHA-256 of the key: the `issuer_id` guarantee documents name.
    pub issuer_id: String,
}

/// Register a guarantee issuer's signing key (operators).
#[utoipa::path(
    post,
    path = "/api/v1/guarantee-issuers",
    tag = "deposits",
    security(("bearer" = [])),
    request_body = IssuerRequest,
    responses((status = 201, body = IssuerResponse), (status = 403, body = Problem), (status = 409, description = "`key_exists`", body = Problem), (status = 422, body = Problem))
)]
async fn register_issuer(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(req): ApiJson<IssuerRequest>,
) -> ApiResult<(StatusCode, Json<IssuerResponse>)> {
    let issuer_id = deposits::register_issuer(
        state.db(),
        &auth.principal,
        &req.name,
        &req.public_key,
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(IssuerResponse { issuer_id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuaranteeRequest {
    /// The issuer's document: `{guarantee_no, issuer_id, registration_id, amount, currency?,
    /// valid_until, ...}`.
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    /// Ed25519 by the issuer over the document's canonical JSON (RFC 8785), base64.
    pub signature: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GuaranteeResponse {
    pub registration_id: String,
    /// `guarantee`: the deposit counts as provided.
    pub status: String,
}

/// Present an electronic guarantee (电子保函) instead of the cash deposit (the registered bidder,
/// before the deadline, in government procurement).
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/registrations/{registration_id}/guarantee",
    tag = "deposits",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("registration_id" = String, Path)),
    request_body = GuaranteeRequest,
    responses(
        (status = 201, body = GuaranteeResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`guarantee_not_allowed`, `guarantee_exists`, `deadline_passed`", body = Problem),
        (status = 422, description = "`guarantee_invalid`: unknown issuer, bad signature, another registration, too small, expires too soon", body = Problem),
    )
)]
async fn present_guarantee(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, _lot, registration_id)): Path<(String, String, String)>,
    ApiJson(req): ApiJson<GuaranteeRequest>,
) -> ApiResult<(StatusCode, Json<GuaranteeResponse>)> {
    deposits::present_guarantee(
        state.db(),
        &auth.principal,
        &id,
        &registration_id,
        &req.document,
        &req.signature,
        state.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(GuaranteeResponse {
            registration_id,
            status: "guarantee".to_owned(),
        }),
    ))
}
