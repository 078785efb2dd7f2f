//! The tenderer's workbench (招标人工作台): its tenders, a guided form that shows the legal
//! minimums while dates are typed, then per tender: publish, documents with upload progress,
//! questions to answer, amendments with their effect on the deadline shown before confirming,
//! the registrations, deposits, downloads and flags once the rules let the owner see them, and
//! cancellation with a reason. Every action calls the service the API calls.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use tenderhall_domain::account::OrganizationKind;
use tenderhall_domain::id::{QuestionId, TenderId};
use tenderhall_domain::money::MoneyInput;
use tenderhall_domain::tender::TenderStatus;
use tenderhall_domain::tender::procedure::{AwardMethod, Kind, Procedure};
use tenderhall_domain::tender::region::PROVINCES;
use tenderhall_domain::tender::service::{
    self as tenders, AmendmentInput, LotInput, TenderFilter, TenderInput,
};

use super::accounts::require_sign_in;
use super::form::{CsrfForm, csrf_refused};
use super::hall::{Choice, beijing, rows};
use super::session::{CSRF_COOKIE, Visitor, csrf_ok};
use super::{Frame, PageError, PageResult, render, see_other};
use crate::error::ApiError;
use crate::extract::{ApiQuery, ClientIp};
use crate::state::AppState;

/// Beijing time, as the form's `datetime-local` fields are read and shown.
fn china() -> chrono::FixedOffset {
    use chrono::Offset;
    chrono::FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// A `datetime-local` value (`2026-12-24T10:00`) in Beijing time.
fn parse_local(field: &str, text: &str) -> Result<DateTime<Utc>, PageError> {
    let text = text.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .and_then(|naive| china().from_local_datetime(&naive).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            PageError(ApiError::invalid(
                field,
                format!("Give the date and time as 2026-12-24T10:00 (Beijing time), not `{text}`."),
                format!(
                    "请按 2026-12-24T10:00 的格式填写日期和时间（北京时间），而不是 `{text}`。"
                ),
            ))
        })
}

fn local_value(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

fn owner_kind(visitor: &Visitor) -> Option<OrganizationKind> {
    visitor
        .principal
        .as_ref()
        .and_then(|p| p.membership.as_ref())
        .map(|m| m.kind)
}

// ---- the workbench's front page -------------------------------------------------------------

#[derive(Template)]
#[template(path = "web/workbench.html")]
struct WorkbenchPage {
    frame: Frame,
    can_tender: bool,
    tenders: Vec<super::hall::Row>,
}

/// `GET /workbench`: a tenderer's or agency's tenders, drafts included; a bidder's workbench is
/// its registrations (web::bidder).
pub async fn workbench(State(state): State<AppState>, visitor: Visitor) -> PageResult {
    let Some(principal) = visitor.principal.as_ref() else {
        return Ok(see_other("/signin?next=/workbench"));
    };
    let kind = owner_kind(&visitor);
    if kind == Some(OrganizationKind::Bidder) {
        return super::bidder::workbench(state, visitor).await;
    }
    let can_tender = matches!(
        kind,
        Some(OrganizationKind::Tenderer | OrganizationKind::Agency)
    );
    let mut items = Vec::new();
    if can_tender {
        let filter = TenderFilter {
            mine: true,
            ..TenderFilter::default()
        };
        items = tenders::list(state.db(), Some(principal), &filter, None, 200)
            .await?
            .items;
    }
    let rows = rows(&state, visitor.tr, items).await?;
    render(&WorkbenchPage {
        frame: Frame::new(&visitor, &state),
        can_tender,
        tenders: rows,
    })
}

// ---- the guided form ------------------------------------------------------------------------

/// The guided form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct TenderForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    procedure: String,
    #[serde(default)]
    award_method: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    tenderer_id: String,
    #[serde(default)]
    document_fee: String,
    #[serde(default)]
    bid_deadline: String,
    #[serde(default)]
    bid_validity_days: String,
    #[serde(default)]
    accelerator: String,
    #[serde(default)]
    lot1_title: String,
    #[serde(default)]
    lot1_budget: String,
    #[serde(default)]
    lot1_deposit: String,
    #[serde(default)]
    lot1_ceiling: String,
    #[serde(default)]
    lot2_title: String,
    #[serde(default)]
    lot2_budget: String,
    #[serde(default)]
    lot2_deposit: String,
    #[serde(default)]
    lot2_ceiling: String,
}

fn money(text: &str) -> Option<MoneyInput> {
    let t = text.trim();
    (!t.is_empty()).then(|| MoneyInput::Text(t.to_owned()))
}

impl TenderForm {
    /// The API's input for these fields; the domain parses and refuses it as it refuses JSON.
    fn input(&self) -> Result<TenderInput, PageError> {
        let mut lots = Vec::new();
        for (n, title, budget, deposit, ceiling) in [
            (
                1,
                &self.lot1_title,
                &self.lot1_budget,
                &self.lot1_deposit,
                &self.lot1_ceiling,
            ),
            (
                2,
                &self.lot2_title,
                &self.lot2_budget,
                &self.lot2_deposit,
                &self.lot2_ceiling,
            ),
        ] {
            if n > 1 && title.trim().is_empty() && budget.trim().is_empty() {
                continue;
            }
            lots.push(LotInput {
                id: n.to_string(),
                title: title.clone(),
                budget: money(budget).unwrap_or(MoneyInput::Text(String::new())),
                deposit: money(deposit).unwrap_or(MoneyInput::Text("0".into())),
                price_ceiling: money(ceiling),
            });
        }
        let number = |field: &str, text: &str| -> Result<Option<u32>, PageError> {
            let t = text.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse().map(Some).map_err(|_| {
                PageError(ApiError::invalid(
                    field,
                    format!("`{field}` is a whole number, not `{t}`."),
                    format!("`{field}` 须为整数，而不是 `{t}`。"),
                ))
            })
        };
        Ok(TenderInput {
            title: self.title.clone(),
            kind: self.kind.clone(),
            procedure: self.procedure.clone(),
            award_method: self.award_method.clone(),
            lots,
            document_fee: money(&self.document_fee),
            bid_deadline: parse_local("bid_deadline", &self.bid_deadline)?,
            bid_validity_days: number("bid_validity_days", &self.bid_validity_days)?,
            opening_fields: None,
            accelerator: number("accelerator", &self.accelerator)?,
            tenderer_id: Some(self.tenderer_id.trim().to_owned()).filter(|t| !t.is_empty()),
            evaluation: None,
            region: Some(self.region.trim().to_owned()).filter(|r| !r.is_empty()),
        })
    }
}

#[derive(Template)]
#[template(path = "web/tender_new.html")]
struct NewTenderPage {
    frame: Frame,
    form: TenderForm,
    kinds: Vec<Choice>,
    procedures: Vec<Choice>,
    methods: Vec<Choice>,
    provinces: Vec<(String, String)>,
    agency: bool,
    error: Option<super::accounts::FormError>,
    now_local: String,
}

fn new_tender_page(
    visitor: &Visitor,
    state: &AppState,
    form: TenderForm,
    error: Option<super::accounts::FormError>,
) -> PageResult {
    let tr = visitor.tr;
    let choose = |values: Vec<(&'static str, String)>, current: &str| -> Vec<Choice> {
        values
            .into_iter()
            .map(|(value, label)| Choice {
                selected: value == current,
                value: value.to_owned(),
                label,
            })
            .collect()
    };
    render(&NewTenderPage {
        frame: Frame::new(visitor, state),
        kinds: choose(
            Kind::ALL
                .iter()
                .map(|k| {
                    (
                        k.as_str(),
                        tr.get(&format!("kind.{}", k.as_str())).to_owned(),
                    )
                })
                .collect(),
            &form.kind,
        ),
        procedures: choose(
            Procedure::ALL
                .iter()
                .map(|p| {
                    (
                        p.as_str(),
                        tr.get(&format!("procedure.{}", p.as_str())).to_owned(),
                    )
                })
                .collect(),
            &form.procedure,
        ),
        methods: choose(
            AwardMethod::ALL
                .iter()
                .map(|m| {
                    (
                        m.as_str(),
                        tr.get(&format!("award.{}", m.as_str())).to_owned(),
                    )
                })
                .collect(),
            &form.award_method,
        ),
        provinces: PROVINCES
            .iter()
            .map(|(code, zh, en)| {
                (
                    format!("{code}0000"),
                    (if tr.is_zh() { *zh } else { *en }).to_owned(),
                )
            })
            .collect(),
        agency: owner_kind(visitor) == Some(OrganizationKind::Agency),
        form,
        error,
        now_local: local_value(state.now()),
    })
}

pub async fn new_tender_page_get(State(state): State<AppState>, visitor: Visitor) -> PageResult {
    if visitor.principal.is_none() {
        return Ok(see_other("/signin?next=/workbench/tenders/new"));
    }
    let form = TenderForm {
        kind: "construction".into(),
        procedure: "open_tender".into(),
        award_method: "lowest_evaluated_price".into(),
        bid_validity_days: "90".into(),
        document_fee: "0".into(),
        ..TenderForm::default()
    };
    new_tender_page(&visitor, &state, form, None)
}

/// `POST /workbench/tenders/new`: creates the draft as `POST /api/v1/tenders` does.
pub async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<TenderForm>,
) -> PageResult {
    let principal = require_sign_in(&visitor)?;
    let created = match form.input() {
        Ok(input) => tenders::create_draft(
            state.db(),
            principal,
            input,
            state.settings().sandbox,
            Some(ip),
            state.now(),
        )
        .await
        .map_err(PageError::from),
        Err(e) => Err(e),
    };
    match created {
        Ok(t) => Ok(see_other(&format!("/workbench/tenders/{}", t.id))),
        Err(PageError(e)) => {
            let (status, error) = super::accounts::form_error(&visitor, e);
            super::accounts::with_status(
                status,
                new_tender_page(&visitor, &state, form, Some(error)),
            )
        }
    }
}

// ---- one tender ------------------------------------------------------------------------------

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
    check: Option<super::accounts::FormError>,
    error: Option<super::accounts::FormError>,
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
    tr: super::i18n::Tr,
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
    error: Option<super::accounts::FormError>,
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
            .map(|e| super::accounts::form_error(visitor, e).1)
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
            let (status, error) = super::accounts::form_error(visitor, e);
            super::accounts::with_status(
                status,
                manage_page(state, visitor, id, Some(error), None).await,
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NoFields {}

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
    let seed = super::session::cookie(&headers, CSRF_COOKIE).unwrap_or_default();
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
                let (status, error) = super::accounts::form_error(&visitor, e);
                return super::accounts::with_status(
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
