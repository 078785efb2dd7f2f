//! A member's signed sheet (docs/spec/evaluation.md "Sheets"): the review (a verdict on every
//! check of every opened bid) or the scores (a mark on every subjective criterion of every valid
//! bid, within its range). The expert signs the sheet's canonical JSON with its own Ed25519 key;
//! the platform verifies it under the key the expert registered, keeps the key beside the sheet,
//! and never accepts a second sheet of the same phase.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use serde::Deserialize;
use serde_json::{Value, json};
use tenderhall_model::evaluation::room::{Mark, Verdict};
use tenderhall_model::evaluation::setup::Rule;

use super::{Room, Viewer, load};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::evaluation::store::evaluation_sheets;
use crate::id::{LotId, TenderId};
use crate::store::begin_write;

/// The phases a member submits a sheet for, and the phases of the evaluation derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Every member reviews every opened bid against the checks.
    Review,
    /// Every member scores the valid bids.
    Scores,
    /// Marks far from the others wait for their members to confirm or correct them.
    Flags,
    /// Every sheet is in: the ranking stands.
    Scored,
    /// Fewer valid bids than the procedure needs after the review.
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Review => "review",
            Self::Scores => "scores",
            Self::Flags => "flags",
            Self::Scored => "scored",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Review,
            Self::Scores,
            Self::Flags,
            Self::Scored,
            Self::Failed,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SheetInput {
    phase: String,
    tender_id: String,
    lot_id: String,
    expert_id: String,
    #[serde(default)]
    verdicts: Vec<VerdictInput>,
    #[serde(default)]
    scores: Vec<ScoreInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictInput {
    bidder_id: String,
    check: String,
    pass: bool,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreInput {
    bidder_id: String,
    criterion: String,
    score: Decimal,
}

fn invalid(field: &str, en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::invalid(field, en, zh)
}

/// The verdicts of a stored review sheet.
pub(super) fn verdicts_of(sheet: &evaluation_sheets::Model) -> Vec<Verdict> {
    serde_json::from_str::<SheetInput>(&sheet.body)
        .map(|s| {
            s.verdicts
                .into_iter()
                .map(|v| Verdict {
                    expert: sheet.expert_id.clone(),
                    bidder: v.bidder_id,
                    check: v.check,
                    pass: v.pass,
                    reason: v.reason,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The marks of a stored score sheet.
pub(super) fn marks_of(sheet: &evaluation_sheets::Model) -> Vec<Mark> {
    serde_json::from_str::<SheetInput>(&sheet.body)
        .map(|s| {
            s.scores
                .into_iter()
                .map(|m| Mark {
                    expert: sheet.expert_id.clone(),
                    bidder: m.bidder_id,
                    criterion: m.criterion,
                    score: m.score,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A stored sheet as the room shows it: what was signed, the signature and the key.
pub(super) fn shown(sheet: &evaluation_sheets::Model) -> Value {
    json!({
        "expert_id": sheet.expert_id,
        "phase": sheet.phase,
        "sheet": serde_json::from_str::<Value>(&sheet.body).unwrap_or(Value::Null),
        "signature": sheet.signature,
        "key_id": sheet.key_id,
        "public_key": sheet.public_key,
        "submitted_at": crate::time::rfc3339(sheet.submitted_at),
    })
}

/// A flags sheet gives a mark for each of the member's flagged marks, and for nothing else: the
/// same mark confirms it, another corrects it (within the range).
fn check_flags(room: &Room, input: &SheetInput) -> DomainResult<()> {
    use std::collections::BTreeSet;
    if !input.verdicts.is_empty() {
        return Err(invalid(
            "sheet.verdicts",
            "A flags sheet has no verdicts.",
            "复核表不含审查意见。",
        ));
    }
    let flagged: BTreeSet<(String, String)> = room
        .flags()
        .iter()
        .filter(|f| f.expert == input.expert_id)
        .map(|f| (f.bidder.clone(), f.criterion.clone()))
        .collect();
    let given: BTreeSet<(String, String)> = input
        .scores
        .iter()
        .map(|m| (m.bidder_id.clone(), m.criterion.clone()))
        .collect();
    if flagged.is_empty() || given != flagged || given.len() != input.scores.len() {
        return Err(invalid(
            "sheet.scores",
            "Give one mark for each of your flagged marks, and no other: the same mark confirms it, another corrects it.",
            "须对本人每一项被标记的评分给出一次结果，且仅限于此：分值不变为确认，改变为更正。",
        ));
    }
    let subjective = room.subjective();
    for (i, m) in input.scores.iter().enumerate() {
        let range = subjective
            .iter()
            .find(|c| c.id == m.criterion)
            .map(|c| &c.rule);
        if let Some(Rule::Subjective { min, max }) = range
            && (m.score < *min || m.score > *max || m.score.scale() > 2)
        {
            return Err(invalid(
                &format!("sheet.scores[{i}].score"),
                format!("The score is from {min} to {max}, with at most 2 decimals."),
                format!("评分须在 {min} 至 {max} 之间，最多两位小数。"),
            ));
        }
    }
    Ok(())
}

/// Checks that the sheet covers exactly what its phase asks, once each.
fn check_content(room: &Room, phase: Phase, input: &SheetInput) -> DomainResult<()> {
    use std::collections::HashSet;
    let mut seen = HashSet::new();
    match phase {
        Phase::Review => {
            if !input.scores.is_empty() {
                return Err(invalid(
                    "sheet.scores",
                    "A review sheet has no scores.",
                    "符合性审查表不含评分。",
                ));
            }
            let checks = room.checks();
            for (i, v) in input.verdicts.iter().enumerate() {
                let known = room.bids.iter().any(|b| b.bidder_id == v.bidder_id)
                    && checks.contains(&v.check);
                if !known || !seen.insert((v.bidder_id.as_str(), v.check.as_str())) {
                    return Err(invalid(
                        &format!("sheet.verdicts[{i}]"),
                        "Each verdict names an opened bid and a published check, once.",
                        "每条审查意见须对应一个已开标的投标和一项公布的审查项，且不得重复。",
                    ));
                }
                let reason = v.reason.trim().chars().count();
                if (!v.pass && reason == 0) || reason > 2000 {
                    return Err(invalid(
                        &format!("sheet.verdicts[{i}].reason"),
                        "A failed check gives its reason (up to 2,000 characters).",
                        "不通过的审查项须说明理由（不超过 2,000 字）。",
                    ));
                }
            }
            if seen.len() != room.bids.len() * checks.len() {
                return Err(invalid(
                    "sheet.verdicts",
                    "Give a verdict on every check of every opened bid.",
                    "须对每个已开标投标的每一审查项给出意见。",
                ));
            }
        }
        Phase::Flags => check_flags(room, input)?,
        _ => {
            if !input.verdicts.is_empty() {
                return Err(invalid(
                    "sheet.verdicts",
                    "A score sheet has no verdicts.",
                    "评分表不含审查意见。",
                ));
            }
            let valid = room.valid_bidders().unwrap_or_default();
            let subjective = room.subjective();
            for (i, m) in input.scores.iter().enumerate() {
                let criterion = subjective.iter().find(|c| c.id == m.criterion);
                let Some(Rule::Subjective { min, max }) = criterion.map(|c| &c.rule) else {
                    return Err(invalid(
                        &format!("sheet.scores[{i}].criterion"),
                        "Score the published subjective criteria only.",
                        "只对公布的主观评审因素评分。",
                    ));
                };
                if !valid.contains(&m.bidder_id)
                    || !seen.insert((m.bidder_id.as_str(), m.criterion.as_str()))
                {
                    return Err(invalid(
                        &format!("sheet.scores[{i}].bidder_id"),
                        "Each score names a bid found valid in the review, once per criterion.",
                        "每项评分须对应一个通过符合性审查的投标，每一因素一次。",
                    ));
                }
                if m.score < *min || m.score > *max || m.score.scale() > 2 {
                    return Err(invalid(
                        &format!("sheet.scores[{i}].score"),
                        format!("The score is from {min} to {max}, with at most 2 decimals."),
                        format!("评分须在 {min} 至 {max} 之间，最多两位小数。"),
                    ));
                }
            }
            if seen.len() != valid.len() * subjective.len() {
                return Err(invalid(
                    "sheet.scores",
                    "Score every subjective criterion of every valid bid.",
                    "须对每个有效投标的每一主观因素评分。",
                ));
            }
        }
    }
    Ok(())
}

/// A member submits its signed sheet for `phase` (`review` or `scores`): checked against the
/// room, verified under the member's registered key, written once with its audit entry.
#[allow(clippy::too_many_arguments)]
pub async fn submit(
    db: &sea_orm::DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    phase: Phase,
    sheet: Value,
    signature: &str,
    rate: Decimal,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let txn = begin_write(db).await?;
    // One decision at a time per tender: the phase a sheet is checked against cannot move under it.
    crate::tender::store::queries::lock(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let room = load(&txn, tender, lot)
        .await?
        .ok_or(DomainError::NotFound)?;
    let Some(Viewer::Member(expert)) = room.viewer(principal) else {
        return Err(DomainError::NotFound);
    };
    if room.sheet(&expert, phase).is_some() {
        return Err(DomainError::Refused {
            code: ErrorCode::SheetLocked,
            message: Text::new(
                "Your sheet for this phase is submitted and locked; it cannot be changed.",
                "本阶段评审表已提交并锁定，不得修改。",
            ),
        });
    }
    if room.phase() != phase {
        return Err(DomainError::Refused {
            code: ErrorCode::WrongPhase,
            message: Text::new(
                format!(
                    "The evaluation is in its `{}` phase: a `{}` sheet is not taken now.",
                    room.phase().as_str(),
                    phase.as_str()
                ),
                format!(
                    "评标目前处于 `{}` 阶段，现在不接受 `{}` 评审表。",
                    room.phase().as_str(),
                    phase.as_str()
                ),
            ),
        });
    }
    let input: SheetInput = serde_json::from_value(sheet.clone()).map_err(|e| {
        invalid(
            "sheet",
            format!("The sheet does not parse: {e}."),
            format!("评审表格式错误：{e}。"),
        )
    })?;
    if input.phase != phase.as_str()
        || input.tender_id != room.tender_id
        || input.lot_id != room.lot_id
        || input.expert_id != expert
    {
        return Err(invalid(
            "sheet",
            "The sheet names this phase, tender, lot and you (`expert_id`): what you sign is what it is for.",
            "评审表须写明本阶段、本项目、本标段和您的专家编号：签名的内容即其用途。",
        ));
    }
    check_content(&room, phase, &input)?;
    let (key_id, public_key) = crate::expert::store::queries::signing_key(&txn, &expert)
        .await?
        .ok_or_else(|| {
            invalid(
                "signature",
                "Register your signing key first (PUT /api/v1/experts/me/signing-key).",
                "请先登记您的签名公钥（PUT /api/v1/experts/me/signing-key）。",
            )
        })?;
    let body = to_canonical_string(&sheet);
    let raw = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(&public_key)
            .map_err(DomainError::internal)?
    };
    if !crate::keys::verify_ed25519(&raw, body.as_bytes(), signature) {
        return Err(DomainError::Invalid {
            code: ErrorCode::BadBidSignature,
            field: Some("signature".into()),
            message: Text::new(
                "The signature does not verify over the sheet's canonical JSON under your registered key: nothing was recorded.",
                "签名无法以您登记的公钥验证（对评审表的规范 JSON）：未作记录。",
            ),
        });
    }
    evaluation_sheets::Entity::insert(evaluation_sheets::ActiveModel {
        tender_id: Set(room.tender_id.clone()),
        lot_id: Set(room.lot_id.clone()),
        expert_id: Set(expert.clone()),
        phase: Set(phase.as_str().to_owned()),
        body: Set(body.clone()),
        signature: Set(signature.to_owned()),
        key_id: Set(key_id.clone()),
        public_key: Set(public_key),
        account_id: Set(principal.account_id.to_string()),
        submitted_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&room.tender_id),
            &Actor::account(principal.account_id.as_str(), ip),
            match phase {
                Phase::Review => "evaluation.review",
                Phase::Flags => "evaluation.flags",
                _ => "evaluation.scores",
            },
            format!("lot:{}/{}", room.tender_id, room.lot_id),
        )
        .details(json!({
            "expert_id": expert,
            "sheet_sha256": tenderhall_model::evaluation::k::commitment(body.as_bytes()),
            "key_id": key_id,
        })),
        now,
    )
    .await?;
    // The last review may leave too few valid bids: the lot fails in this same transaction.
    let failed =
        phase == Phase::Review && super::fail::after_review(&txn, tender, lot, rate, now).await?;
    txn.commit().await?;
    Ok(json!({
        "lot_failed": failed,
        "phase": phase.as_str(),
        "expert_id": expert,
        "sheet_sha256": tenderhall_model::evaluation::k::commitment(body.as_bytes()),
        "submitted_at": crate::time::rfc3339(now),
    }))
}
