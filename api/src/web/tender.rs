//! A tender's public page (`/tenders/{id}`): lots, money, periods with a live countdown,
//! documents, questions and amendments, and each lot's signed opening record once opened.

use askama::Template;
use axum::extract::{Path, State};
use serde_json::Value;
use tenderhall_domain::account::store::queries as orgs;
use tenderhall_domain::bid::opening::published_record;
use tenderhall_domain::id::{LotId, TenderId};
use tenderhall_domain::tender::TenderStatus;
use tenderhall_domain::tender::service::{self as tenders};

use super::hall::{beijing, region_label};
use super::session::Visitor;
use super::{Frame, PageResult, render};
use crate::state::AppState;

struct LotRow {
    id: String,
    title: String,
    budget: String,
    deposit: String,
    ceiling: String,
    status: String,
    key_id: String,
    record: Option<Record>,
}

/// A lot's opening record as published, and the JSON the page's script checks the signature of.
struct Record {
    status: String,
    reason: String,
    opened_at: String,
    signature: String,
    key_id: String,
    bids: Vec<RecordBid>,
    json: String,
}

struct RecordBid {
    bidder: String,
    received_at: String,
    status: String,
    price: String,
    deposit: String,
    sha256: String,
}

struct DocRow {
    title: String,
    filename: String,
    size: String,
    sha256: String,
}

struct QuestionRow {
    question: String,
    asked_at: String,
    answer: Option<String>,
}

struct AmendmentRow {
    seq: u32,
    title: String,
    body: String,
    published_at: String,
    moved: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "web/tender.html")]
struct TenderPage {
    frame: Frame,
    id: String,
    title: String,
    tenderer: String,
    agency: String,
    kind: String,
    procedure: String,
    award: String,
    region: String,
    status: String,
    status_key: &'static str,
    fee: String,
    published: String,
    questions_until: String,
    deadline: String,
    deadline_iso: String,
    open: bool,
    cancel_reason: Option<String>,
    validity: u32,
    lots: Vec<LotRow>,
    documents: Vec<DocRow>,
    questions: Vec<QuestionRow>,
    amendments: Vec<AmendmentRow>,
    platform_key: String,
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn record(tr: super::i18n::Tr, v: Value) -> Record {
    let bids = v
        .get("bids")
        .and_then(Value::as_array)
        .map(|bids| {
            bids.iter()
                .map(|b| RecordBid {
                    bidder: text(b, "bidder_name"),
                    received_at: text(b, "received_at"),
                    status: tr
                        .get(&format!("bid_status.{}", text(b, "status")))
                        .to_owned(),
                    price: b
                        .get("fields")
                        .map(|f| text(f, "total_price"))
                        .unwrap_or_default(),
                    deposit: tr
                        .get(&format!("deposit_status.{}", text(b, "deposit_status")))
                        .to_owned(),
                    sha256: text(b, "envelope_sha256"),
                })
                .collect()
        })
        .unwrap_or_default();
    Record {
        status: tr
            .get(&format!("record_status.{}", text(&v, "status")))
            .to_owned(),
        reason: text(&v, "reason"),
        opened_at: text(&v, "opened_at"),
        signature: text(&v, "signature"),
        key_id: text(&v, "platform_key"),
        bids,
        json: script_json(&v),
    }
}

/// JSON to place inside a `<script type="application/json">`: `<`, `>` and `&` escaped so the
/// text can never close the element, whatever a bidder's name holds.
pub fn script_json(v: &Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `GET /tenders/{id}`.
pub async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> PageResult {
    let tr = visitor.tr;
    let viewer = visitor.principal.as_ref();
    let tender_id = TenderId::parse(&id)?;
    let t = tenders::get(state.db(), viewer, &tender_id).await?;
    let documents = tenders::list_documents(state.db(), viewer, &tender_id).await?;
    let questions = tenders::list_questions(state.db(), viewer, &tender_id).await?;
    let amendments = tenders::list_amendments(state.db(), viewer, &tender_id).await?;
    let names = orgs::names(
        state.db(),
        std::iter::once(t.tenderer_org_id.clone()).chain(t.agency_org_id.clone()),
    )
    .await?;
    let mut lots = Vec::with_capacity(t.lots.len());
    for l in &t.lots {
        let published = match LotId::parse(&l.id) {
            Ok(lot) => published_record(state.db(), &tender_id, &lot).await?,
            Err(_) => None,
        };
        lots.push(LotRow {
            id: l.id.clone(),
            title: l.title.clone(),
            budget: l.budget.to_string(),
            deposit: l.deposit.to_string(),
            ceiling: l.price_ceiling.map(|m| m.to_string()).unwrap_or_default(),
            status: tr
                .get(&format!("lot_status.{}", l.status.as_str()))
                .to_owned(),
            key_id: l
                .opening_key
                .as_ref()
                .map(|k| k.key_id.clone())
                .unwrap_or_default(),
            record: published.map(|v| record(tr, v)),
        });
    }
    let questions_until = t
        .published_at
        .map(|p| tenderhall_domain::tender::question_cutoff(p, t.bid_deadline, t.accelerator));
    render(&TenderPage {
        frame: Frame::new(&visitor, &state),
        tenderer: names.get(&t.tenderer_org_id).cloned().unwrap_or_default(),
        agency: t
            .agency_org_id
            .as_ref()
            .and_then(|a| names.get(a).cloned())
            .unwrap_or_default(),
        kind: tr.get(&format!("kind.{}", t.kind.as_str())).to_owned(),
        procedure: tr
            .get(&format!("procedure.{}", t.procedure.as_str()))
            .to_owned(),
        award: tr
            .get(&format!("award.{}", t.award_method.as_str()))
            .to_owned(),
        region: region_label(tr, t.region.as_ref()),
        status: tr.get(&format!("status.{}", t.status.as_str())).to_owned(),
        status_key: t.status.as_str(),
        fee: t.document_fee.to_string(),
        published: t.published_at.map(beijing).unwrap_or_default(),
        questions_until: questions_until.map(beijing).unwrap_or_default(),
        deadline: beijing(t.bid_deadline),
        deadline_iso: t.bid_deadline.to_rfc3339(),
        open: t.status == TenderStatus::Active && t.bid_deadline > state.now(),
        cancel_reason: t.cancel_reason.clone(),
        validity: t.bid_validity_days,
        lots,
        documents: documents
            .into_iter()
            .map(|d| DocRow {
                title: d.title,
                filename: d.filename,
                size: size(d.size),
                sha256: d.sha256,
            })
            .collect(),
        questions: questions
            .into_iter()
            .filter(|q| q.answer.is_some() || q.mine)
            .map(|q| QuestionRow {
                question: q.question,
                asked_at: beijing(q.asked_at),
                answer: q.answer,
            })
            .collect(),
        amendments: amendments
            .into_iter()
            .map(|a| AmendmentRow {
                seq: a.seq,
                moved: a
                    .deadline_moved()
                    .then(|| (beijing(a.deadline_before), beijing(a.bid_deadline))),
                title: a.title,
                body: a.body,
                published_at: beijing(a.published_at),
            })
            .collect(),
        platform_key: state.signer().public_key_base64(),
        id: t.id,
        title: t.title,
    })
}
