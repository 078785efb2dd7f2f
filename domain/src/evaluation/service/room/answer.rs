//! The room as it is answered: the compliance decision and the ranking as JSON (for the room and
//! the report), and the room as each viewer may see it.

use rust_decimal::Decimal;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::{Phase, Room, Viewer, clarify, load, sheet};
use crate::account::Principal;
use crate::error::{DomainError, DomainResult};
use crate::id::{LotId, TenderId};

fn cents(d: Decimal) -> String {
    tenderhall_model::evaluation::price::cents_text(d)
}

/// The committee's compliance decision as the room and the report show it.
pub(crate) fn compliance_json(room: &Room) -> Option<Value> {
    room.compliance()
        .map(|decisions| {
            decisions
                .iter()
                .map(|d| {
                    json!({
                        "bidder_id": d.bidder,
                        "valid": d.valid,
                        "unexplained_low_price": room.unexplained_low_price(&d.bidder),
                        "checks": d.checks.iter().map(|c| json!({
                            "check": c.check, "pass": c.pass,
                            "passed_by": c.passed_by, "failed_by": c.failed_by,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect::<Vec<_>>()
        })
        .map(Value::from)
}

/// The ranking as the room and the report show it: figures rounded half-up to the cent.
pub(crate) fn ranking_json(room: &Room) -> DomainResult<Option<Value>> {
    let mut leaf_ids: Vec<&str> = room.setup.leaves().iter().map(|c| c.id.as_str()).collect();
    if leaf_ids.is_empty() {
        leaf_ids.push("price");
    }
    let corrections = room.marks(Phase::Flags);
    Ok(room.ranking()?.map(|r| {
        json!({
            "base_price": cents(r.base_price),
            "results": r.results.iter().map(|x| json!({
                "bidder_id": x.bidder,
                "price": cents(x.price),
                "evaluated_price": cents(x.evaluated_price),
                "criteria": leaf_ids.iter().zip(&x.criteria).map(|(id, p)| json!({"criterion": id, "points": cents(*p)})).collect::<Vec<_>>(),
                "total": cents(x.total),
                "rank": x.rank,
            })).collect::<Vec<_>>(),
            "candidates": r.candidates,
            "flags": r.flags.iter().map(|f| {
                let resolved = corrections.iter().find(|c| c.expert == f.expert && c.bidder == f.bidder && c.criterion == f.criterion);
                json!({
                    "expert_id": f.expert, "bidder_id": f.bidder, "criterion": f.criterion,
                    "score": f.score.normalize().to_string(), "others_mean": cents(f.others_mean),
                    "resolution": match resolved {
                        Some(c) if c.score == f.score => "confirmed",
                        Some(_) => "corrected",
                        None => "open",
                    },
                    "corrected_score": resolved.filter(|c| c.score != f.score).map(|c| c.score.normalize().to_string()),
                })
            }).collect::<Vec<_>>(),
        })
    }))
}

/// The room as `principal` may see it (404 for anyone but supervisors and seated members).
/// A member sees the other members' sheets of a phase only after submitting its own.
pub async fn view(
    db: &impl ConnectionTrait,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Value> {
    let room = load(db, tender, lot).await?.ok_or(DomainError::NotFound)?;
    let viewer = room.viewer(principal).ok_or(DomainError::NotFound)?;
    let may_read = |expert: &str, phase: Phase| match &viewer {
        Viewer::Supervisor => true,
        // Confirmations and corrections are the committee's to see; a phase's sheets otherwise
        // only once one's own is in.
        Viewer::Member(me) => {
            me == expert || phase == Phase::Flags || room.sheet(me, phase).is_some()
        }
    };
    let sheets: Vec<Value> = room
        .sheets
        .iter()
        .filter(|s| Phase::parse(&s.phase).is_some_and(|phase| may_read(&s.expert_id, phase)))
        .map(sheet::shown)
        .collect();
    let members: Vec<Value> = room
        .members
        .iter()
        .filter(|m| match &viewer {
            Viewer::Supervisor => true,
            Viewer::Member(me) => *me == **m,
        })
        .map(|m| {
            json!({
                "expert_id": m,
                "reviewed": room.sheet(m, Phase::Review).is_some(),
                "scored": room.sheet(m, Phase::Scores).is_some(),
            })
        })
        .collect();
    let compliance = compliance_json(&room);
    let ranking = ranking_json(&room)?;
    let flags: Vec<Value> = room
        .flags()
        .iter()
        .map(|f| {
            json!({
                "expert_id": f.expert, "bidder_id": f.bidder, "criterion": f.criterion,
                "score": f.score.normalize().to_string(), "others_mean": cents(f.others_mean),
                "resolved": room.sheet(&f.expert, Phase::Flags).is_some(),
            })
        })
        .collect();
    let submitted = |phase: Phase| {
        room.members
            .iter()
            .filter(|m| room.sheet(m, phase).is_some())
            .count()
    };
    Ok(json!({
        "tender_id": room.tender_id,
        "lot_id": room.lot_id,
        "phase": room.phase().as_str(),
        "evaluation": room.setup_input,
        "k": room.k.normalize().to_string(),
        "committee_size": room.members.len(),
        "reviews_submitted": submitted(Phase::Review),
        "scores_submitted": submitted(Phase::Scores),
        "flags_open": flags.iter().filter(|f| f["resolved"] == false).count(),
        "flags": flags,
        "members": members,
        "bids": room.bids.iter().map(|b| json!({
            "bidder_id": b.bidder_id,
            "bidder_name": b.bidder_name,
            "fields": b.fields,
            "archive": format!("/api/v1/tenders/{}/lots/{}/bids/{}/archive", room.tender_id, room.lot_id, b.bidder_id),
        })).collect::<Vec<_>>(),
        "sheets": sheets,
        "clarifications": room.clarifications.iter().map(clarify::shown).collect::<Vec<_>>(),
        "clarifications_open": room.open_clarifications(),
        "rounds": room.rounds.iter().map(|r| json!({
            "round": r.number,
            "deadline": crate::time::rfc3339(r.deadline),
            "status": if r.record.is_some() { "opened" } else { "open" },
        })).collect::<Vec<_>>(),
        "compliance": compliance,
        "ranking": ranking,
    }))
}
