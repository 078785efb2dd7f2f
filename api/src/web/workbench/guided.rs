//! The guided form (`/workbench/tenders/new`): the tender step by step, with the publication's
//! checks run while the tenderer types (tender-form.js and `POST /api/v1/tenders/check`).

use askama::Template;
use axum::extract::State;
use serde::Deserialize;
use tenderhall_domain::account::OrganizationKind;
use tenderhall_domain::money::MoneyInput;
use tenderhall_domain::tender::procedure::{AwardMethod, Kind, Procedure};
use tenderhall_domain::tender::region::PROVINCES;
use tenderhall_domain::tender::service::{self as tenders, LotInput, TenderInput};

use super::{local_value, owner_kind, parse_local};
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::state::AppState;
use crate::web::form::CsrfForm;
use crate::web::form::require_sign_in;
use crate::web::hall::Choice;
use crate::web::session::Visitor;
use crate::web::{Frame, PageError, PageResult, render, see_other};

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
                // The guided form makes tenders; an auction's terms are sent through the API.
                auction: None,
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
    error: Option<crate::web::form::FormError>,
    now_local: String,
}

fn new_tender_page(
    visitor: &Visitor,
    state: &AppState,
    form: TenderForm,
    error: Option<crate::web::form::FormError>,
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
            state.master_key(),
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
            let (status, error) = crate::web::form::form_error(&visitor, e);
            crate::web::form::with_status(
                status,
                new_tender_page(&visitor, &state, form, Some(error)),
            )
        }
    }
}
