//! The bidder's workbench (投标人工作台): its registrations with their deposits, and per lot the
//! virtual account to pay with the live payment status, the document fee and the downloads,
//! anonymous questions, the bid sealed and signed in the browser (`seal.js`, docs/portal.md
//! "Sealing in the browser") with its receipt, and withdrawal. Every action calls the service the
//! API calls.

use askama::Template;
use axum::extract::{Path, State};
use serde::Deserialize;
use tenderhall_domain::bid::service::submission;
use tenderhall_domain::deposit::service as deposits;
use tenderhall_domain::id::{LotId, TenderId};
use tenderhall_domain::tender::TenderStatus;
use tenderhall_domain::tender::service as tenders;

use super::form::{CsrfForm, NoFields};
use super::form::{FormError, form_error, require_sign_in, with_status};
use super::hall::beijing;
use super::session::Visitor;
use super::tender::script_json;
use super::{Frame, PageError, PageResult, render, see_other};
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::state::AppState;

struct RegistrationRow {
    tender_id: String,
    tender_title: String,
    lot_id: String,
    account_no: String,
    amount_due: String,
    paid: String,
    deposit_status: String,
    withdrawn: bool,
}

#[derive(Template)]
#[template(path = "web/bidder_workbench.html")]
struct BidderWorkbench {
    frame: Frame,
    registrations: Vec<RegistrationRow>,
}

/// A bidder's `/workbench`: its registrations, newest first.
pub async fn workbench(state: AppState, visitor: Visitor) -> PageResult {
    let principal = require_sign_in(&visitor)?;
    let tr = visitor.tr;
    let own = deposits::own_registrations(state.db(), principal).await?;
    // The titles in one query: a registration is public knowledge of its bidder, and every tender
    // registered for is published.
    let ids: Vec<String> = own
        .iter()
        .map(|r| r.registration.tender_id.clone())
        .collect();
    let titles = tenderhall_domain::tender::store::queries::titles(state.db(), &ids).await?;
    let mut registrations = Vec::with_capacity(own.len());
    for r in own {
        registrations.push(RegistrationRow {
            tender_title: titles
                .get(&r.registration.tender_id)
                .cloned()
                .unwrap_or_default(),
            account_no: r.registration.deposit_account.account_no.clone(),
            amount_due: r.registration.deposit_account.amount_due.to_string(),
            paid: r.paid.to_string(),
            deposit_status: tr
                .get(&format!("deposit_status.{}", r.deposit_status.as_str()))
                .to_owned(),
            withdrawn: r.status == "withdrawn",
            tender_id: r.registration.tender_id,
            lot_id: r.registration.lot_id,
        });
    }
    render(&BidderWorkbench {
        frame: Frame::new(&visitor, &state),
        registrations,
    })
}

struct DocumentLink {
    id: String,
    title: String,
    filename: String,
    sha256: String,
}

#[derive(Template)]
#[template(path = "web/bid.html")]
struct BidPage {
    frame: Frame,
    tender_id: String,
    tender_title: String,
    lot_id: String,
    lot_title: String,
    deadline: String,
    deadline_iso: String,
    open: bool,
    sandbox: bool,
    organization_id: String,
    registration: Option<Registered>,
    fee: Option<Fee>,
    documents: Vec<DocumentLink>,
    receipt: Option<String>,
    receipt_json: String,
    opening_key: String,
    opening_key_id: String,
    opening_fields: Vec<String>,
    platform_key: String,
    error: Option<FormError>,
    notice: Option<&'static str>,
}

struct Registered {
    id: String,
    account_no: String,
    amount_due: String,
    amount_due_plain: String,
    paid: String,
    deposit_status: String,
    withdrawn: bool,
}

struct Fee {
    amount: String,
    account: Option<(String, String)>,
}

/// What the page shows besides the lot: the answer of the form just sent.
#[derive(Default)]
struct Shown {
    error: Option<FormError>,
    notice: Option<&'static str>,
    /// The document fee's virtual account and amount, once asked for.
    fee_account: Option<(String, String)>,
}

async fn bid_page(
    state: &AppState,
    visitor: &Visitor,
    tender: &str,
    lot: &str,
    shown: Shown,
) -> PageResult {
    let principal = require_sign_in(visitor)?;
    let tr = visitor.tr;
    let tender_id = TenderId::parse(tender)?;
    let lot_id = LotId::parse(lot)?;
    let t = tenders::get(state.db(), Some(principal), &tender_id).await?;
    let l = t
        .lots
        .iter()
        .find(|l| l.id == lot_id.as_str())
        .ok_or_else(|| PageError(ApiError::not_found()))?;
    let own = deposits::own_registrations(state.db(), principal).await?;
    let registration = own
        .into_iter()
        .filter(|r| r.registration.tender_id == t.id && r.registration.lot_id == l.id)
        .min_by_key(|r| r.status != "active")
        .map(|r| Registered {
            id: r.registration.id.clone(),
            account_no: r.registration.deposit_account.account_no.clone(),
            amount_due: r.registration.deposit_account.amount_due.to_string(),
            amount_due_plain: tenderhall_domain::money::MoneyDto::from(
                r.registration.deposit_account.amount_due,
            )
            .amount,
            paid: r.paid.to_string(),
            deposit_status: tr
                .get(&format!("deposit_status.{}", r.deposit_status.as_str()))
                .to_owned(),
            withdrawn: r.status == "withdrawn",
        });
    let registered = registration.as_ref().is_some_and(|r| !r.withdrawn);
    let fee = t.document_fee.is_positive().then(|| Fee {
        amount: t.document_fee.to_string(),
        account: shown.fee_account,
    });
    let documents = tenders::list_documents(state.db(), Some(principal), &tender_id)
        .await?
        .into_iter()
        .map(|d| DocumentLink {
            id: d.id,
            title: d.title,
            filename: d.filename,
            sha256: d.sha256,
        })
        .collect();
    let receipt = if registered {
        submission::current(state.db(), principal, &tender_id, &lot_id)
            .await
            .ok()
            .map(|(_, r)| r)
    } else {
        None
    };
    let receipt_value = receipt.as_ref().and_then(|r| serde_json::to_value(r).ok());
    render(&BidPage {
        frame: Frame::new(visitor, state),
        tender_title: t.title.clone(),
        lot_title: l.title.clone(),
        deadline: beijing(t.bid_deadline),
        deadline_iso: t.bid_deadline.to_rfc3339(),
        open: t.status == TenderStatus::Active && t.bid_deadline > state.now(),
        sandbox: state.settings().sandbox,
        organization_id: principal
            .membership
            .as_ref()
            .map(|m| m.organization_id.to_string())
            .unwrap_or_default(),
        registration,
        fee,
        documents,
        receipt: receipt.as_ref().map(|r| r.envelope_sha256.clone()),
        receipt_json: receipt_value.as_ref().map(script_json).unwrap_or_default(),
        opening_key: l
            .opening_key
            .as_ref()
            .map(|k| k.public_key.clone())
            .unwrap_or_default(),
        opening_key_id: l
            .opening_key
            .as_ref()
            .map(|k| k.key_id.clone())
            .unwrap_or_default(),
        opening_fields: t.opening_fields.clone(),
        platform_key: state.signer().public_key_base64(),
        error: shown.error,
        notice: shown.notice,
        tender_id: t.id.clone(),
        lot_id: l.id.clone(),
    })
}

/// `GET /workbench/bids/{tender}/{lot}`: the bidder's page for one lot.
pub async fn bid(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((tender, lot)): Path<(String, String)>,
) -> PageResult {
    if visitor.principal.is_none() {
        return Ok(see_other(&format!(
            "/signin?next=/workbench/bids/{tender}/{lot}"
        )));
    }
    bid_page(&state, &visitor, &tender, &lot, Shown::default()).await
}

async fn bid_act(
    state: &AppState,
    visitor: &Visitor,
    tender: &str,
    lot: &str,
    notice: &'static str,
    action: impl std::future::Future<Output = Result<(), PageError>>,
) -> PageResult {
    match action.await {
        Ok(()) => {
            let shown = Shown {
                notice: Some(notice),
                ..Shown::default()
            };
            bid_page(state, visitor, tender, lot, shown).await
        }
        Err(PageError(e)) => refused(state, visitor, tender, lot, e).await,
    }
}

async fn refused(
    state: &AppState,
    visitor: &Visitor,
    tender: &str,
    lot: &str,
    e: ApiError,
) -> PageResult {
    let (status, error) = form_error(visitor, e);
    let shown = Shown {
        error: Some(error),
        ..Shown::default()
    };
    with_status(status, bid_page(state, visitor, tender, lot, shown).await)
}

/// `POST /workbench/bids/{tender}/{lot}/register`: as `POST .../registrations`.
pub async fn register(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path((tender, lot)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?.clone();
    bid_act(&state, &visitor, &tender, &lot, "bid.registered", async {
        deposits::register(
            state.db(),
            &principal,
            &TenderId::parse(&tender)?,
            &LotId::parse(&lot)?,
            Some(ip),
            state.now(),
        )
        .await?;
        Ok(())
    })
    .await
}

/// `POST /workbench/bids/{tender}/{lot}/fee`: the virtual account the document fee is paid to.
pub async fn fee(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path((tender, lot)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?.clone();
    let result = deposits::fee_account(
        state.db(),
        &principal,
        &TenderId::parse(&tender)?,
        Some(ip),
        state.now(),
    )
    .await;
    match result {
        // The same account on every ask: shown on the page the form answers.
        Ok((account, _)) => {
            let shown = Shown {
                fee_account: Some((
                    account.account_no,
                    tenderhall_domain::money::MoneyDto::from(account.amount_due).amount,
                )),
                ..Shown::default()
            };
            bid_page(&state, &visitor, &tender, &lot, shown).await
        }
        Err(e) => refused(&state, &visitor, &tender, &lot, e.into()).await,
    }
}

/// `GET /workbench/tenders/{id}/documents/{document}`: the download, as the API's.
pub async fn download(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path((tender, document)): Path<(String, String)>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?;
    Ok(crate::routes::documents::serve_document(&state, principal, &tender, &document, ip).await?)
}

#[derive(Debug, Deserialize)]
pub struct QuestionForm {
    #[serde(default)]
    question: String,
}

/// `POST /workbench/bids/{tender}/{lot}/question`: asked in the organization's name, shown to
/// nobody as its (实施条例 Art 22: the answer goes to all without naming the asker).
pub async fn ask(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path((tender, lot)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<QuestionForm>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?.clone();
    bid_act(&state, &visitor, &tender, &lot, "bid.asked", async {
        tenders::ask_question(
            state.db(),
            &principal,
            &TenderId::parse(&tender)?,
            &form.question,
            Some(ip),
            state.now(),
        )
        .await?;
        state.wake_jobs();
        Ok(())
    })
    .await
}

/// `POST /workbench/bids/{tender}/{lot}/withdraw`: withdraws the current bid (撤回) before the
/// deadline, with its signed withdrawal receipt.
pub async fn withdraw(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path((tender, lot)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?.clone();
    bid_act(&state, &visitor, &tender, &lot, "bid.withdrawn", async {
        submission::withdraw(
            state.db(),
            state.signer(),
            &principal,
            &TenderId::parse(&tender)?,
            &lot,
            state.deposits().interest_rate,
            Some(ip),
            state.clock().as_ref(),
        )
        .await?;
        state.wake_jobs();
        Ok(())
    })
    .await
}
