//! The tenderer's workbench (招标人工作台): its tenders, a guided form that shows the legal
//! minimums while dates are typed, then per tender: publish, documents with upload progress,
//! questions to answer, amendments with their effect on the deadline shown before confirming,
//! the registrations, deposits, downloads and flags once the rules let the owner see them, and
//! cancellation with a reason. Every action calls the service the API calls.

mod guided;
mod manage;

use askama::Template;
use axum::extract::State;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use tenderhall_domain::account::OrganizationKind;
use tenderhall_domain::tender::service::{self as tenders, TenderFilter};

pub use guided::{create, new_tender_page_get};
pub use manage::{amend, answer, cancel, manage, publish, upload};

use super::hall::rows;
use super::session::Visitor;
use super::{Frame, PageError, PageResult, render, see_other};
use crate::error::ApiError;
use crate::state::AppState;

use tenderhall_domain::tender::china_time as china;

/// A `datetime-local` value (`2026-12-24T10:00`) in Beijing time.
pub(super) fn parse_local(field: &str, text: &str) -> Result<DateTime<Utc>, PageError> {
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

pub(super) fn local_value(at: DateTime<Utc>) -> String {
    at.with_timezone(&china())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

pub(super) fn owner_kind(visitor: &Visitor) -> Option<OrganizationKind> {
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
        return crate::web::bidder::workbench(state, visitor).await;
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
