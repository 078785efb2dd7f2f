//! The public trading hall (交易大厅): announcements with filters, search and paging, and the
//! platform's published keys and audit heads.

use askama::Template;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use tenderhall_domain::account::store::queries as orgs;
use tenderhall_domain::audit::service::latest_head;
use tenderhall_domain::tender::TenderStatus;
use tenderhall_domain::tender::china_time;
use tenderhall_domain::tender::procedure::{Kind, Procedure};
use tenderhall_domain::tender::region::PROVINCES;
use tenderhall_domain::tender::service::{self as tenders, Tender};

use super::session::Visitor;
use super::{Frame, PageResult, render};
use crate::extract::ApiQuery;
use crate::routes::tenders::{TenderQuery, parse_filter};
use crate::state::AppState;

/// Public times are shown in Beijing time (UTC+8, no daylight saving), as announcements state
/// them; the `<time>` element carries the exact instant.
pub fn beijing(at: DateTime<Utc>) -> String {
    at.with_timezone(&china_time())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// An option of a filter's select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices<'a>(
    values: impl IntoIterator<Item = (&'a str, String)>,
    current: Option<&str>,
) -> Vec<Choice> {
    values
        .into_iter()
        .map(|(value, label)| Choice {
            selected: current == Some(value),
            value: value.to_owned(),
            label,
        })
        .collect()
}

/// One announcement in the list.
pub struct Row {
    pub id: String,
    pub title: String,
    pub tenderer: String,
    pub kind: String,
    pub procedure: String,
    pub region: String,
    pub status: String,
    pub status_key: &'static str,
    pub deadline: String,
    pub deadline_iso: String,
    pub published: String,
    pub lots: usize,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "web/hall.html")]
struct HallPage {
    frame: Frame,
    q: String,
    kinds: Vec<Choice>,
    procedures: Vec<Choice>,
    regions: Vec<Choice>,
    statuses: Vec<Choice>,
    rows: Vec<Row>,
    next: Option<String>,
    paged: bool,
    filtered: bool,
}

/// The hall's query: the API's filters, where an empty field of the form means "any".
#[derive(Debug, Default, Deserialize)]
pub struct HallQuery {
    kind: Option<String>,
    procedure: Option<String>,
    region: Option<String>,
    status: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub fn region_label(
    tr: super::i18n::Tr,
    region: Option<&tenderhall_domain::tender::region::Region>,
) -> String {
    region.map_or_else(String::new, |r| {
        let (zh, en) = r.province();
        let name = if tr.is_zh() { zh } else { en };
        if r.prefix().len() > 2 {
            format!("{name} · {}", r.as_str())
        } else {
            name.to_owned()
        }
    })
}

pub async fn rows(
    state: &AppState,
    tr: super::i18n::Tr,
    items: Vec<Tender>,
) -> PageResult<Vec<Row>> {
    let names = orgs::names(state.db(), items.iter().map(|t| t.tenderer_org_id.clone())).await?;
    let now = state.now();
    Ok(items
        .into_iter()
        .map(|t| Row {
            tenderer: names.get(&t.tenderer_org_id).cloned().unwrap_or_default(),
            kind: tr.get(&format!("kind.{}", t.kind.as_str())).to_owned(),
            procedure: tr
                .get(&format!("procedure.{}", t.procedure.as_str()))
                .to_owned(),
            region: region_label(tr, t.region.as_ref()),
            status: tr.get(&format!("status.{}", t.status.as_str())).to_owned(),
            status_key: t.status.as_str(),
            deadline: beijing(t.bid_deadline),
            deadline_iso: t.bid_deadline.to_rfc3339(),
            published: t.published_at.map(beijing).unwrap_or_default(),
            lots: t.lots.len(),
            open: t.status == TenderStatus::Active && t.bid_deadline > now,
            id: t.id,
            title: t.title,
        })
        .collect())
}

/// `GET /`: the announcements, newest first.
pub async fn hall(
    State(state): State<AppState>,
    visitor: Visitor,
    ApiQuery(query): ApiQuery<HallQuery>,
) -> PageResult {
    let tr = visitor.tr;
    let kind = given(query.kind);
    let procedure = given(query.procedure);
    let region = given(query.region);
    let status = given(query.status);
    let q = given(query.q);
    let cursor = given(query.cursor);
    let filtered = kind.is_some()
        || procedure.is_some()
        || region.is_some()
        || status.is_some()
        || q.is_some();
    let filter = parse_filter(TenderQuery {
        kind: kind.clone(),
        procedure: procedure.clone(),
        status: status.clone(),
        region: region.clone(),
        q: q.clone(),
        mine: None,
    })?;
    let page = tenders::list(state.db(), None, &filter, cursor.as_deref(), 20).await?;
    let next = page.next_cursor.map(|c| {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("kind", &kind),
            ("procedure", &procedure),
            ("region", &region),
            ("status", &status),
            ("q", &q),
        ] {
            if let Some(v) = v {
                pairs.append_pair(k, v);
            }
        }
        pairs.append_pair("cursor", &c);
        format!("/?{}", pairs.finish())
    });
    let page_rows = rows(&state, tr, page.items).await?;
    let province_codes: Vec<(String, String)> = PROVINCES
        .iter()
        .map(|(code, zh, en)| {
            (
                format!("{code}0000"),
                (if tr.is_zh() { *zh } else { *en }).to_owned(),
            )
        })
        .collect();
    render(&HallPage {
        frame: Frame::new(&visitor, &state),
        q: q.clone().unwrap_or_default(),
        kinds: choices(
            Kind::ALL.iter().map(|k| {
                (
                    k.as_str(),
                    tr.get(&format!("kind.{}", k.as_str())).to_owned(),
                )
            }),
            kind.as_deref(),
        ),
        procedures: choices(
            Procedure::ALL.iter().map(|p| {
                (
                    p.as_str(),
                    tr.get(&format!("procedure.{}", p.as_str())).to_owned(),
                )
            }),
            procedure.as_deref(),
        ),
        regions: choices(
            province_codes.iter().map(|(c, n)| (c.as_str(), n.clone())),
            region.as_deref(),
        ),
        statuses: choices(
            TenderStatus::ALL
                .iter()
                .filter(|s| **s != TenderStatus::Draft)
                .map(|s| {
                    (
                        s.as_str(),
                        tr.get(&format!("status.{}", s.as_str())).to_owned(),
                    )
                }),
            status.as_deref(),
        ),
        rows: page_rows,
        next,
        paged: cursor.is_some(),
        filtered,
    })
}

#[derive(Template)]
#[template(path = "web/keys.html")]
struct KeysPage {
    frame: Frame,
    platform_key: String,
    platform_key_id: String,
    head: Option<Head>,
    public_url: String,
}

struct Head {
    seq: i64,
    signed_at: String,
    digest: String,
    signature: String,
}

/// `GET /keys`: the keys that sign receipts, records and audit heads, and how to check them.
pub async fn keys(State(state): State<AppState>, visitor: Visitor) -> PageResult {
    let head = latest_head(state.db()).await?.map(|h| Head {
        seq: h.seq,
        signed_at: beijing(h.signed_at),
        digest: h.digest,
        signature: h.signature,
    });
    render(&KeysPage {
        frame: Frame::new(&visitor, &state),
        platform_key: state.signer().public_key_base64(),
        platform_key_id: state.signer().key_id().to_owned(),
        head,
        public_url: state.settings().public_url(),
    })
}
