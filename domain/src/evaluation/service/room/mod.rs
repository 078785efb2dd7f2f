//! The evaluation room of a lot (docs/spec/evaluation.md "The evaluation room"): open once the lot
//! is opened and its committee seated. The members review every opened bid against the published
//! checks, then score the valid ones on the subjective criteria; each sheet is signed with the
//! member's own Ed25519 key and locked once submitted. The phase, the committee's compliance
//! decision and the ranking are derived from the sheets, never stored beside them, so they cannot
//! disagree. Members and supervisors (read-only, live) see the room; nobody else learns it exists.

mod answer;
pub mod clarify;
pub(crate) mod fail;
mod report;
mod sheet;

use std::collections::HashMap;

use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use tenderhall_model::evaluation::room::{self, BidDecision, Ranking, ScoredBid, Verdict};
use tenderhall_model::evaluation::setup::{Rule, Setup, SetupInput};

use super::super::store::{evaluation_sheets, price_k_draws};
use crate::account::Principal;
use crate::error::{DomainError, DomainResult};
use crate::id::{LotId, TenderId};

pub use answer::view;
pub(crate) use answer::{compliance_json, ranking_json};
pub use report::{report, sign_report};
pub use sheet::{Phase, submit};

/// An opened bid as the room shows it: from the signed opening record.
#[derive(Debug, Clone)]
pub(crate) struct OpenedBid {
    pub bidder_id: String,
    pub bidder_name: String,
    pub fields: serde_json::Map<String, Value>,
}

/// Everything the room is made of, loaded once per request.
pub(crate) struct Room {
    pub tender_id: String,
    pub lot_id: String,
    pub setup_input: SetupInput,
    pub setup: Setup,
    pub k: Decimal,
    pub min_valid: usize,
    pub bids: Vec<OpenedBid>,
    /// The seated committee, by expert id.
    pub members: Vec<String>,
    /// The current members' sheets.
    pub sheets: Vec<evaluation_sheets::Model>,
    /// The committee's written questions to bidders.
    pub clarifications: Vec<crate::evaluation::store::clarifications::Model>,
    /// Final-quote rounds (negotiation and inquiry), by number.
    pub rounds: Vec<crate::evaluation::store::quote_rounds::Model>,
}

/// Who is looking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Viewer {
    Supervisor,
    Member(String),
}

/// The lot's room, or `None` when there is none yet (not opened, no committee, no set-up).
pub(crate) async fn load(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Option<Room>> {
    let (tender_id, lot_id) = (tender.as_str(), lot.as_str());
    let Some(row) = crate::tender::store::queries::by_id(db, tender_id).await? else {
        return Ok(None);
    };
    let Some(record) = crate::bid::opening::published_record(db, tender, lot).await? else {
        return Ok(None);
    };
    if record["status"] != "opened" {
        return Ok(None);
    }
    let members = crate::draw::store::queries::committee(db, tender_id, lot_id).await?;
    if members.is_empty() {
        return Ok(None);
    }
    let kind = row.kind.parse().map_err(DomainError::internal)?;
    let award = row.award_method.parse().map_err(DomainError::internal)?;
    let opening_fields: Vec<String> =
        serde_json::from_str(&row.opening_fields).map_err(DomainError::internal)?;
    let setup_input: Option<SetupInput> = row
        .evaluation
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(DomainError::internal)?;
    let Some(setup) =
        crate::tender::evaluation::check_setup(setup_input.as_ref(), kind, award, &opening_fields)?
    else {
        return Ok(None);
    };
    let setup_input = setup_input.unwrap_or_else(crate::tender::evaluation::default_lowest_price);
    let k = price_k_draws::Entity::find_by_id((tender_id.to_owned(), lot_id.to_owned()))
        .one(db)
        .await?
        .and_then(|r| r.k)
        .map(|k| k.parse::<Decimal>())
        .transpose()
        .map_err(DomainError::internal)?
        .unwrap_or_default();
    let bids = record["bids"]
        .as_array()
        .map(|bids| {
            bids.iter()
                .filter(|b| b["status"] == "opened")
                .map(|b| OpenedBid {
                    bidder_id: b["bidder_id"].as_str().unwrap_or_default().to_owned(),
                    bidder_name: b["bidder_name"].as_str().unwrap_or_default().to_owned(),
                    fields: b["fields"].as_object().cloned().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let sheets = evaluation_sheets::Entity::find()
        .filter(evaluation_sheets::Column::TenderId.eq(tender_id))
        .filter(evaluation_sheets::Column::LotId.eq(lot_id))
        .all(db)
        .await?
        .into_iter()
        .filter(|s| members.binary_search(&s.expert_id).is_ok())
        .collect();
    let clarifications = clarify::of_lot(db, tender_id, lot_id).await?;
    let rounds = super::rounds::of_lot(db, tender_id, lot_id).await?;
    Ok(Some(Room {
        tender_id: tender_id.to_owned(),
        lot_id: lot_id.to_owned(),
        setup_input,
        setup,
        k,
        min_valid: row
            .min_bids
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(3),
        bids,
        members,
        sheets,
        clarifications,
        rounds,
    }))
}

impl Room {
    /// Supervisors and seated members may look; anybody else is told nothing (404).
    pub fn viewer(&self, principal: &Principal) -> Option<Viewer> {
        if principal.is_supervisor() {
            return Some(Viewer::Supervisor);
        }
        let id = principal.expert_id.as_ref()?.as_str().to_owned();
        self.members
            .binary_search(&id)
            .is_ok()
            .then_some(Viewer::Member(id))
    }

    fn sheet(&self, expert: &str, phase: Phase) -> Option<&evaluation_sheets::Model> {
        self.sheets
            .iter()
            .find(|s| s.expert_id == expert && s.phase == phase.as_str())
    }

    fn all_submitted(&self, phase: Phase) -> bool {
        self.members.iter().all(|m| self.sheet(m, phase).is_some())
    }

    fn checks(&self) -> Vec<String> {
        self.setup.compliance.iter().map(|c| c.id.clone()).collect()
    }

    fn subjective(&self) -> Vec<&tenderhall_model::evaluation::setup::Criterion> {
        self.setup
            .leaves()
            .into_iter()
            .filter(|c| matches!(c.rule, Rule::Subjective { .. }))
            .collect()
    }

    /// Whether `bidder` let a request to explain its abnormally low price lapse (87号令 Art 60).
    fn unexplained_low_price(&self, bidder: &str) -> bool {
        self.clarifications
            .iter()
            .any(|c| c.abnormally_low && c.bidder_id == bidder && c.lapsed_at.is_some())
    }

    /// Questions neither answered nor lapsed: the report waits for them.
    fn open_clarifications(&self) -> usize {
        self.clarifications
            .iter()
            .filter(|c| clarify::is_open(c))
            .count()
    }

    /// The committee's compliance decision, once every member has reviewed (every bid valid
    /// when the set-up has no checks) and every abnormally low price is explained or its time
    /// has run out; a price left unexplained makes the bid invalid (87号令 Art 60).
    fn compliance(&self) -> Option<Vec<BidDecision>> {
        let waiting_on_low_price = self
            .clarifications
            .iter()
            .any(|c| c.abnormally_low && clarify::is_open(c));
        if waiting_on_low_price {
            return None;
        }
        let mut decisions = self.review_decision()?;
        for d in &mut decisions {
            if self.unexplained_low_price(&d.bidder) {
                d.valid = false;
            }
        }
        Some(decisions)
    }

    fn review_decision(&self) -> Option<Vec<BidDecision>> {
        let bidders: Vec<String> = self.bids.iter().map(|b| b.bidder_id.clone()).collect();
        let checks = self.checks();
        if checks.is_empty() {
            return Some(room::decide(&[], &bidders, &[]));
        }
        if !self.all_submitted(Phase::Review) {
            return None;
        }
        let mut verdicts: Vec<Verdict> = Vec::new();
        for s in self
            .sheets
            .iter()
            .filter(|s| s.phase == Phase::Review.as_str())
        {
            verdicts.extend(sheet::verdicts_of(s));
        }
        Some(room::decide(&checks, &bidders, &verdicts))
    }

    /// The bids still in: valid after the review, and not out of a final-quote round (no quote,
    /// or one that did not open).
    pub(crate) fn valid_bidders(&self) -> Option<Vec<String>> {
        let out: Vec<String> = self
            .rounds
            .iter()
            .filter_map(super::rounds::record_of)
            .flat_map(|r| r["quotes"].as_array().cloned().unwrap_or_default())
            .filter(|q| q["status"] != "opened")
            .filter_map(|q| q["bidder_id"].as_str().map(str::to_owned))
            .collect();
        Some(
            self.compliance()?
                .into_iter()
                .filter(|d| d.valid && !out.contains(&d.bidder))
                .map(|d| d.bidder)
                .collect(),
        )
    }

    /// A round of final quotes called and not yet opened: the ranking waits for it.
    pub(super) fn round_open(&self) -> bool {
        self.rounds.iter().any(|r| r.record.is_none())
    }

    /// A bid's price form as it stands: the last opened round's quote, else the opened bid's.
    fn current_fields(&self, bid: &OpenedBid) -> serde_json::Map<String, Value> {
        self.rounds
            .iter()
            .rev()
            .filter_map(super::rounds::record_of)
            .find_map(|r| {
                r["quotes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|q| q["bidder_id"] == bid.bidder_id.as_str() && q["status"] == "opened")
                    .and_then(|q| q["fields"].as_object().cloned())
            })
            .unwrap_or_else(|| bid.fields.clone())
    }

    /// Where the evaluation stands.
    pub fn phase(&self) -> Phase {
        let Some(valid) = self.valid_bidders() else {
            return Phase::Review;
        };
        if valid.len() < self.min_valid {
            return Phase::Failed;
        }
        if !self.subjective().is_empty() && !self.all_submitted(Phase::Scores) {
            return Phase::Scores;
        }
        let unresolved = self
            .flags()
            .iter()
            .any(|f| self.sheet(&f.expert, Phase::Flags).is_none());
        if unresolved {
            return Phase::Flags;
        }
        Phase::Scored
    }

    /// The marks of every member's `phase` sheet.
    fn marks(&self, phase: Phase) -> Vec<room::Mark> {
        let mut marks = Vec::new();
        for s in self.sheets.iter().filter(|s| s.phase == phase.as_str()) {
            marks.extend(sheet::marks_of(s));
        }
        marks
    }

    /// The marks far from the others, as first submitted, once every member has scored: each
    /// waits for its member to confirm or correct it. Later corrections flag nothing new.
    pub(super) fn flags(&self) -> Vec<room::Flag> {
        if self.subjective().is_empty() || !self.all_submitted(Phase::Scores) {
            return Vec::new();
        }
        match self.aggregate(&self.marks(Phase::Scores)) {
            Ok(r) => r.flags,
            Err(_) => Vec::new(),
        }
    }

    /// The ranking of the valid bids, once every member has scored and every flag is resolved:
    /// by the marks as confirmed or corrected, with the flags of the marks as first submitted.
    fn ranking(&self) -> DomainResult<Option<Ranking>> {
        if self.phase() != Phase::Scored || self.round_open() {
            return Ok(None);
        }
        let corrections = self.marks(Phase::Flags);
        let submitted = self.marks(Phase::Scores);
        let first = self
            .aggregate(&submitted)
            .map_err(|r| DomainError::internal(format!("{}: {}", r.field, r.reason.en)))?;
        if corrections.is_empty() {
            return Ok(Some(first));
        }
        let corrected = |m: &room::Mark| {
            corrections
                .iter()
                .find(|c| {
                    c.expert == m.expert && c.bidder == m.bidder && c.criterion == m.criterion
                })
                .cloned()
                .unwrap_or_else(|| m.clone())
        };
        let effective: Vec<room::Mark> = submitted.iter().map(corrected).collect();
        let mut ranking = self
            .aggregate(&effective)
            .map_err(|r| DomainError::internal(format!("{}: {}", r.field, r.reason.en)))?;
        ranking.flags = first.flags;
        Ok(Some(ranking))
    }

    fn aggregate(
        &self,
        marks: &[room::Mark],
    ) -> Result<Ranking, tenderhall_model::evaluation::price::PriceRefusal> {
        let valid = self.valid_bidders().unwrap_or_default();
        let number = |v: &Value| -> Option<Decimal> {
            match v {
                Value::String(s) => s.parse().ok(),
                Value::Number(n) => n.to_string().parse().ok(),
                _ => None,
            }
        };
        let bids: Vec<ScoredBid> = self
            .bids
            .iter()
            .filter(|b| valid.contains(&b.bidder_id))
            .map(|b| {
                let fields = self.current_fields(b);
                ScoredBid {
                    bidder: b.bidder_id.clone(),
                    price: fields
                        .get("total_price")
                        .and_then(number)
                        .unwrap_or_default(),
                    // An SME declares itself in the price form's `sme` field when the tender asks
                    // for it among its opening fields.
                    sme: matches!(fields.get("sme"), Some(Value::Bool(true)))
                        || fields.get("sme").and_then(Value::as_str) == Some("true"),
                    fields: fields
                        .iter()
                        .filter_map(|(k, v)| Some((k.clone(), number(v)?)))
                        .collect::<HashMap<_, _>>(),
                }
            })
            .collect();
        room::aggregate(&self.setup, self.k, &bids, marks)
    }
}

/// Whether `principal` sits on the lot's seated committee (the decrypted bids are theirs to read).
pub async fn is_member(
    db: &impl ConnectionTrait,
    principal: &Principal,
    tender_id: &str,
    lot_id: &str,
) -> DomainResult<bool> {
    let Some(expert) = &principal.expert_id else {
        return Ok(false);
    };
    Ok(
        crate::draw::store::queries::committee(db, tender_id, lot_id)
            .await?
            .binary_search(&expert.as_str().to_owned())
            .is_ok(),
    )
}
