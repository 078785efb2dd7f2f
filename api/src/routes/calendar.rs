//! The procedure table in force and the holiday calendar for working-day periods.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tenderhall_domain::tender::procedure::{DepositCap, PROCEDURE_TABLE, Period};
use tenderhall_domain::tender::service::{calendar_days, set_calendar_day};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Page, Problem};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(procedures))
        .routes(routes!(list_calendar))
        .routes(routes!(put_calendar_day, delete_calendar_day))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcedureRow {
    pub kind: String,
    pub procedure: String,
    pub award_methods: Vec<String>,
    /// e.g. `20 days`, `3 working days`.
    pub min_period: String,
    pub min_bids: u32,
    /// e.g. `2 % of the lot budget`, `set by the seller`.
    pub deposit_cap: String,
    pub period_source: String,
    pub deposit_source: String,
}

/// The procedure table as this deployment applies it (docs/spec/rules.md, with the operator's overrides).
#[utoipa::path(get, path = "/api/v1/procedures", tag = "procedures", responses((status = 200, body = Page<ProcedureRow>)))]
async fn procedures(State(state): State<AppState>) -> Json<Page<ProcedureRow>> {
    let mut items = Vec::new();
    for row in PROCEDURE_TABLE {
        for kind in row.kinds {
            for procedure in row.procedures {
                let Some(rule) = state.settings().procedures.rule(*kind, *procedure) else {
                    continue;
                };
                items.push(ProcedureRow {
                    kind: kind.as_str().to_owned(),
                    procedure: procedure.as_str().to_owned(),
                    award_methods: rule
                        .award_methods
                        .iter()
                        .map(|m| m.as_str().to_owned())
                        .collect(),
                    min_period: match rule.min_period {
                        p @ (Period::Days(_) | Period::WorkingDays(_)) => p.to_string(),
                    },
                    min_bids: rule.min_bids,
                    deposit_cap: match rule.deposit_cap {
                        DepositCap::PercentOfBudget { percent } => {
                            format!("{percent} % of the lot budget")
                        }
                        DepositCap::PercentOfBudgetAndAmount {
                            percent,
                            amount_yuan,
                        } => {
                            format!("{percent} % of the lot budget, at most {amount_yuan} CNY")
                        }
                        DepositCap::SetBySeller => "set by the seller".to_owned(),
                    },
                    period_source: rule.period_source.to_owned(),
                    deposit_source: rule.deposit_source.to_owned(),
                });
            }
        }
    }
    Json(Page {
        items,
        next_cursor: None,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarDayResponse {
    pub day: NaiveDate,
    /// `holiday` (法定节假日) or `workday` (调休上班).
    pub kind: String,
    pub name: String,
}

/// The holiday calendar: public holidays and make-up working days.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "procedures", responses((status = 200, body = Page<CalendarDayResponse>)))]
async fn list_calendar(
    State(state): State<AppState>,
) -> ApiResult<Json<Page<CalendarDayResponse>>> {
    let items = calendar_days(state.db())
        .await?
        .into_iter()
        .map(|d| CalendarDayResponse {
            day: d.day,
            kind: d.kind,
            name: d.name,
        })
        .collect();
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarDayRequest {
    /// `holiday` or `workday`.
    pub kind: String,
    pub name: String,
}

fn parse_day(day: &str) -> ApiResult<NaiveDate> {
    day.parse().map_err(|_| {
        ApiError::invalid(
            "day",
            "The day is a date such as 2027-01-01.",
            "日期格式如 2027-01-01。",
        )
    })
}

/// Mark a day as a holiday or a make-up working day (operators).
#[utoipa::path(
    put,
    path = "/api/v1/calendar/{day}",
    tag = "procedures",
    security(("bearer" = [])),
    params(("day" = String, Path, description = "YYYY-MM-DD")),
    request_body = CalendarDayRequest,
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem))
)]
async fn put_calendar_day(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(day): Path<String>,
    ApiJson(req): ApiJson<CalendarDayRequest>,
) -> ApiResult<StatusCode> {
    let day = parse_day(&day)?;
    set_calendar_day(
        state.db(),
        &auth.principal,
        day,
        Some((&req.kind, &req.name)),
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Make a day ordinary again (operators).
#[utoipa::path(
    delete,
    path = "/api/v1/calendar/{day}",
    tag = "procedures",
    security(("bearer" = [])),
    params(("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 204), (status = 403, body = Problem), (status = 422, description = "`invalid`: the day is not a date", body = Problem))
)]
async fn delete_calendar_day(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(day): Path<String>,
) -> ApiResult<StatusCode> {
    let day = parse_day(&day)?;
    set_calendar_day(
        state.db(),
        &auth.principal,
        day,
        None,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
