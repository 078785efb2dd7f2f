//! One tender on its owner's workbench (`/workbench/tenders/{id}`): publish, documents, answers,
//! amendments with their effect on the deadline shown first, what the owner may see, cancel.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use serde::Deserialize;
use tenderhall_domain::id::{QuestionId, TenderId};
use tenderhall_domain::tender::TenderStatus;
use tenderhall_domain::tender::service::{self as tenders, AmendmentInput};

use super::{local_value, parse_local};
use crate::error::ApiError;
use crate::extract::{ApiQuery, ClientIp};
use crate::state::AppState;
use crate::web::form::require_sign_in;
use crate::web::form::{CsrfForm, NoFields, csrf_refused};
use crate::web::hall::beijing;
use crate::web::session::{CSRF_COOKIE, Visitor, csrf_ok};
use crate::web::{Frame, PageError, PageResult, render, see_other};

struct OwnQuestion {
    id: String,
    question: String,
    asked_at: String,
    answer: Option<String>,
}

struct DocRow {
    title: String,
    filename: String,
    size: u64,
    sha256: String,
}

/// A list the owner may or may not see yet: its rows, or the reason it is hidden.
struct Gated {
    rows: Vec<Vec<String>>,
    hidden: Option<String>,
}

#[derive(Template)]
#[template(path = "web/tender_manage.html")]
struct ManagePage {
    frame: Frame,
    id: String,
    title: String,
    status: String,
    status_key: &'static str,
    draft: bool,
    active: bool,
    cancellable: bool,
    deadline: String,
    deadline_iso: String,
    open: bool,
    documents: Vec<DocRow>,
    questions: Vec<OwnQuestion>,
    amendments: usize,
    check: Option<crate::web::form::FormError>,
    error: Option<crate::web::form::FormError>,
    preview: Option<AmendmentPreview>,
    deposits: Gated,
    downloads: Gated,
    flags: Gated,
    upload_limit: u64,
}

/// What an amendment will do to the deadline, shown before it is confirmed.
struct AmendmentPreview {
    title: String,
    body: String,
    affects_bids: bool,
    deadline_before: String,
    deadline_after: String,
    moved: bool,
    chosen: String,
}

fn gate<T>(
    tr: crate::web::i18n::Tr,
    result: Result<Vec<T>, tenderhall_domain::DomainError>,
    row: impl Fn(T) -> Vec<String>,
) -> Gated {
    match result {
        Ok(items) => Gated {
            rows: items.into_iter().map(row).collect(),
            hidden: None,
        },
        Err(e) => {
            let e = ApiError::from(e);
            Gated {
                rows: Vec::new(),
                hidden: Some(if tr.is_zh() { e.detail.zh } else { e.detail.en }),
            }
        }
    }
}

async fn manage_page(
    state: &AppState,
    visitor: &Visitor,
    id: &str,
    error: Option<crate::web::form::FormError>,
    preview: Option<AmendmentPreview>,
) -> PageResult {
    let principal = require_sign_in(visitor)?;
    let tr = visitor.tr;
    let tender_id = TenderId::parse(id)?;
    let t = tenders::get(state.db(), Some(principal), &tender_id).await?;
    if !t.is_owned_by(principal) {
        return Err(PageError(ApiError::not_found()));
    }
    let documents = tenders::list_documents(state.db(), Some(principal), &tender_id).await?;
    let questions = tenders::list_questions(state.db(), Some(principal), &tender_id).await?;
    let amendments = tenders::list_amendments(state.db(), Some(principal), &tender_id).await?;
    let check = if t.status == TenderStatus::Draft {
        let check = tenders::precheck(
            state.db(),
            &t.to_input(),
            &state.settings().procedures,
            state.settings().sandbox,
            state.now(),
        )
        .await?;
        check
            .refusal
            .map(|e| crate::web::form::form_error(visitor, e).1)
    } else {
        None
    };
    // What the rules let the owner see now: each list, or the service's reason it is hidden.
    let mut lines = Vec::new();
    let mut hidden_deposits = None;
    for l in &t.lots {
        let lot_id = tenderhall_domain::id::LotId::parse(&l.id)?;
        match tenderhall_domain::deposit::service::lot_deposits(
            state.db(),
            principal,
            &tender_id,
            &lot_id,
            state.now(),
        )
        .await
        {
            Ok(found) => lines.extend(found),
            Err(e) => {
                hidden_deposits = Some(e);
                break;
            }
        }
    }
    let downloads = tenders::downloads(state.db(), principal, &tender_id, state.now()).await;
    let orgs = lines
        .iter()
        .map(|d| d.registration.organization_id.clone())
        .chain(
            downloads
                .iter()
                .flatten()
                .filter_map(|d| d.organization_id.clone()),
        );
    let names = tenderhall_domain::account::store::queries::names(state.db(), orgs).await?;
    let name = |org: &str| names.get(org).cloned().unwrap_or_else(|| org.to_owned());
    let doc_titles: std::collections::HashMap<String, String> = documents
        .iter()
        .map(|d| (d.id.clone(), d.title.clone()))
        .collect();
    let deposits = gate(tr, hidden_deposits.map_or(Ok(lines), Err), |d| {
        vec![
            d.registration.lot_id.clone(),
            name(&d.registration.organization_id),
            tr.get(&format!("deposit_status.{}", d.status_at_deadline.as_str()))
                .to_owned(),
            d.paid.to_string(),
        ]
    });
    let downloads = gate(tr, downloads, |d| {
        vec![
            d.organization_id.as_deref().map(&name).unwrap_or_default(),
            doc_titles.get(&d.document_id).cloned().unwrap_or_default(),
            beijing(d.at),
        ]
    });
    let flags = gate(
        tr,
        tenderhall_domain::deposit::service::tender_flags(
            state.db(),
            principal,
            &tender_id,
            state.now(),
        )
        .await,
        |f| vec![f.kind, f.lot_id, f.count.to_string()],
    );
    let now = state.now();
    render(&ManagePage {
        frame: Frame::new(visitor, state),
        status: tr.get(&format!("status.{}", t.status.as_str())).to_owned(),
        status_key: t.status.as_str(),
        draft: t.status == TenderStatus::Draft,
        active: t.status == TenderStatus::Active && t.bid_deadline > now,
        cancellable: matches!(
            t.status,
            TenderStatus::Draft | TenderStatus::Active | TenderStatus::Closed
        ),
        deadline: beijing(t.bid_deadline),
        deadline_iso: t.bid_deadline.to_rfc3339(),
        open: t.status == TenderStatus::Active && t.bid_deadline > now,
        documents: documents
            .into_iter()
            .map(|d| DocRow {
                title: d.title,
                filename: d.filename,
                size: d.size,
                sha256: d.sha256,
            })
            .collect(),
        questions: questions
            .into_iter()
            .map(|q| OwnQuestion {
                id: q.id,
                question: q.question,
                asked_at: beijing(q.asked_at),
                answer: q.answer,
            })
            .collect(),
        amendments: amendments.len(),
        check,
        error,
        preview,
        deposits,
        downloads,
        flags,
        upload_limit: state.settings().max_document_bytes,
        id: t.id,
        title: t.title,
    })
}

/// `GET /workbench/tenders/{id}`: the owner's view of one tender.
pub async fn manage(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> PageResult {
    if visitor.principal.is_none() {
        return Ok(see_other(&format!("/signin?next=/workbench/tenders/{id}")));
    }
    manage_page(&state, &visitor, &id, None, None).await
}

/// Runs `action`; on a refusal shows the tender's page again with the refusal, else goes back to it.
async fn act(
    state: &AppState,
    visitor: &Visitor,
    id: &str,
    action: impl std::future::Future<Output = Result<(), PageError>>,
) -> PageResult {
    match action.await {
        Ok(()) => Ok(see_other(&format!("/workbench/tenders/{id}"))),
        Err(PageError(e)) => {
            let (status, error) = crate::web::form::form_error(visitor, e);
            crate::web::form::with_status(
                status,
                manage_page(state, visitor, id, Some(error), None).await,
            )
        }
    }
}

/// `POST /workbench/tenders/{id}/publish`.
pub async fn publish(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?.clone();
    act(&state, &visitor, &id, async {
        tenders::publish(
            state.db(),
            &principal,
            &TenderId::parse(&id)?,
            &state.settings().procedures,
            state.master_key(),
            state.settings().sandbox,
            Some(ip),
            state.now(),
        )
        .await?;
        state.wake_jobs();
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    csrf: String,
}

/// `POST /workbench/tenders/{id}/documents?csrf=`: a multipart upload streamed into the store as
/// the API's is. The form token travels in the address, where a form without a script can put it
/// before the file.
pub async fn upload(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: axum::http::HeaderMap,
    multipart: Multipart,
) -> PageResult {
    let seed = crate::web::session::cookie(&headers, CSRF_COOKIE).unwrap_or_default();
    if !csrf_ok(state.web_key(), seed, &query.csrf) {
        return Err(csrf_refused());
    }
    let principal = require_sign_in(&visitor)?.clone();
    act(&state, &visitor, &id, async {
        crate::routes::documents::receive_document(
            &state,
            &principal,
            &TenderId::parse(&id)?,
            multipart,
            ip,
        )
        .await?;
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    affects_bids: Option<String>,
}

/// `POST /workbench/tenders/{id}/questions/{question}/answer`.
pub async fn answer(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path((id, question)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?.clone();
    act(&state, &visitor, &id, async {
        tenders::answer_question(
            state.db(),
            &principal,
            &TenderId::parse(&id)?,
            &QuestionId::parse(&question)?,
            &form.answer,
            form.affects_bids.is_some(),
            Some(ip),
            state.now(),
        )
        .await?;
        state.wake_jobs();
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct AmendForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    affects_bids: Option<String>,
    #[serde(default)]
    bid_deadline: String,
    /// Present on the second step: the tenderer saw the effect and confirms.
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /workbench/tenders/{id}/amendments`: first shows what the amendment does to the deadline
/// (实施条例 Art 21: one that may affect bids leaves at least 15 days), then publishes it when
/// confirmed.
pub async fn amend(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AmendForm>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?.clone();
    let tender_id = TenderId::parse(&id)?;
    let chosen = if form.bid_deadline.trim().is_empty() {
        None
    } else {
        match parse_local("bid_deadline", &form.bid_deadline) {
            Ok(at) => Some(at),
            Err(PageError(e)) => {
                let (status, error) = crate::web::form::form_error(&visitor, e);
                return crate::web::form::with_status(
                    status,
                    manage_page(&state, &visitor, &id, Some(error), None).await,
                );
            }
        }
    };
    let affects_bids = form.affects_bids.is_some();
    if form.confirm.is_none() {
        let t = tenders::get(state.db(), Some(&principal), &tender_id).await?;
        let required = tenderhall_domain::tender::deadline_after_amendment(
            state.now(),
            t.bid_deadline,
            affects_bids,
            t.accelerator,
        );
        let after = chosen.map_or(required, |c| c.max(required));
        let preview = AmendmentPreview {
            title: form.title,
            body: form.body,
            affects_bids,
            deadline_before: beijing(t.bid_deadline),
            deadline_after: beijing(after),
            moved: after != t.bid_deadline,
            chosen: chosen.map(local_value).unwrap_or_default(),
        };
        return manage_page(&state, &visitor, &id, None, Some(preview)).await;
    }
    act(&state, &visitor, &id, async {
        tenders::publish_amendment(
            state.db(),
            state.master_key(),
            &principal,
            &tender_id,
            AmendmentInput {
                title: form.title,
                body: form.body,
                affects_bids,
                document_ids: Vec::new(),
                bid_deadline: chosen,
                evaluation: None,
            },
            Some(ip),
            state.now(),
        )
        .await?;
        state.wake_jobs();
        Ok(())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    reason: String,
}

/// `POST /workbench/tenders/{id}/cancel` (终止), with its published reason.
pub async fn cancel(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CancelForm>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?.clone();
    act(&state, &visitor, &id, async {
        tenders::cancel(
            state.db(),
            &principal,
            &TenderId::parse(&id)?,
            &form.reason,
            state.deposits().interest_rate,
            Some(ip),
            state.now(),
        )
        .await?;
        state.wake_jobs();
        Ok(())
    })
    .await
}
