//! Registration and its withdrawal, fee accounts, guarantees, the deposits view and payment flags
//! (docs/spec/api-contract.md "Registration…", "Deposits and fees"); the bank's side is in `bank.rs`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::account::OrganizationKind;
use tenderhall_domain::deposit::service::{
    self as deposits, DepositLine, FlagView, OwnRegistration, Registration, VirtualAccount,
};
use tenderhall_domain::id::{LotId, RegistrationId, TenderId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::tenders::MoneyResponse;
use super::{Items, Problem};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(document_fee))
        .routes(routes!(lot_deposits))
        .routes(routes!(tender_flags))
        .routes(routes!(own_registration, withdraw_registration))
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
    // Who may register is answered (403) before the ids are read, whatever they name.
    auth.principal.require_kind(&[OrganizationKind::Bidder])?;
    let (tender, lot) = (TenderId::parse(&id)?, LotId::parse(&lot)?);
    let (registration, created) = deposits::register(
        state.db(),
        &auth.principal,
        &tender,
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
    // Who may have a fee account is answered (403) before the id is read, whatever it names.
    auth.principal.require_kind(&[OrganizationKind::Bidder])?;
    let tender = TenderId::parse(&id)?;
    let (account, created) =
        deposits::fee_account(state.db(), &auth.principal, &tender, Some(ip), state.now()).await?;
    Ok((created_or_ok(created), Json(account.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlagResponse {
    /// `payer_mismatch` (实施条例 Art 26) or `shared_payer` (实施条例 Art 40).
    pub kind: String,
    pub lot_id: String,
    /// Flags of this kind on the lot: before the bid deadline they are counted, not shown one by
    /// one; after it each flag is an item of its own (count 1).
    pub count: usize,
    /// The fields below are `null` before the bid deadline (docs/spec/visibility.md): who a flag concerns
    /// would tell who registered and paid.
    pub organization_id: Option<String>,
    pub account_no: Option<String>,
    pub payer_account: Option<String>,
    pub detail: Option<String>,
    pub raised_at: Option<DateTime<Utc>>,
}

impl From<FlagView> for FlagResponse {
    fn from(f: FlagView) -> Self {
        let c = f.concerns;
        Self {
            kind: f.kind,
            lot_id: f.lot_id,
            count: f.count,
            organization_id: c.as_ref().map(|c| c.organization_id.clone()),
            account_no: c.as_ref().map(|c| c.account_no.clone()),
            payer_account: c.as_ref().map(|c| c.payer_account.clone()),
            detail: c.as_ref().map(|c| c.detail.clone()),
            raised_at: c.as_ref().map(|c| c.raised_at),
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
            // The deposits view opens after the deadline: each flag is shown whole.
            flags: deposits::visible_flags(d.flags, false)
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
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
    let (tender, lot) = (TenderId::parse(&id)?, LotId::parse(&lot)?);
    let lines =
        deposits::lot_deposits(state.db(), &auth.principal, &tender, &lot, state.now()).await?;
    Ok(Json(Items {
        items: lines.into_iter().map(Into::into).collect(),
    }))
}

/// Payment flags of a tender (supervisors only, at any time): payers other than the basic account,
/// and one account paying for several bidders. Before the bid deadline each kind and lot with its
/// count; who a flag concerns appears after the deadline.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/flags",
    tag = "deposits",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Items<FlagResponse>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem))
)]
async fn tender_flags(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Items<FlagResponse>>> {
    // Anyone but a supervisor is refused (403) before the id is read, whatever it names.
    deposits::require_flag_reader(&auth.principal)?;
    let tender = TenderId::parse(&id)?;
    let flags = deposits::tender_flags(state.db(), &auth.principal, &tender, state.now()).await?;
    Ok(Json(Items {
        items: flags.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OwnRegistrationResponse {
    #[serde(flatten)]
    pub registration: RegistrationResponse,
    /// `active`, or `withdrawn` (register again for a new registration and account).
    pub status: String,
    /// `paid`, `partial`, `unpaid` or `guarantee`: what was credited before the bid deadline, so
    /// far while it runs.
    pub deposit_status: String,
    pub paid: MoneyResponse,
    pub held: MoneyResponse,
}

impl From<OwnRegistration> for OwnRegistrationResponse {
    fn from(r: OwnRegistration) -> Self {
        Self {
            registration: r.registration.into(),
            status: r.status,
            deposit_status: r.deposit_status.as_str().to_owned(),
            paid: r.paid.into(),
            held: r.held.into(),
        }
    }
}

/// The caller's own registration and its deposit so far (the registered bidder, from registration
/// on; 404 for anybody else).
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/registrations/{registration_id}",
    tag = "deposits",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), ("registration_id" = String, Path)),
    responses(
        (status = 200, body = OwnRegistrationResponse),
        (status = 401, body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn own_registration(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot, registration_id)): Path<(String, String, String)>,
) -> ApiResult<Json<OwnRegistrationResponse>> {
    let own = deposits::own_registration(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &RegistrationId::parse(&registration_id)?,
    )
    .await?;
    Ok(Json(own.into()))
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
        (status = 409, description = "`deadline_passed`, `already_withdrawn`, `bid_current`", body = Problem),
    )
)]
async fn withdraw_registration(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, _lot, registration_id)): Path<(String, String, String)>,
) -> ApiResult<Json<WithdrawalResponse>> {
    // The lot in the path names nothing the withdrawal needs: it is not read, as before.
    let refund_id = deposits::withdraw_registration(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &RegistrationId::parse(&registration_id)?,
        state.deposits().interest_rate,
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
    // The lot in the path is not read, as before: the registration names it.
    deposits::present_guarantee(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &RegistrationId::parse(&registration_id)?,
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
