//! The evaluation report (docs/spec/evaluation.md "The report"): once every member has scored, the
//! report is the canonical JSON of everything the room decided (the set-up and K, the committee,
//! the opened bids, every sheet's digest and signature, the compliance decision, the ranking, the
//! flags). Each member signs its digest with its own key, with a dissent if it disagrees (评标
//! 委员会和评标方法暂行规定 Art 43); when the last member has signed, the platform signs the
//! report with every member's signature in one record, in the same transaction, and the tender's
//! owners are told. Written once.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::{Phase, Room, Viewer, compliance_json, load, ranking_json};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::evaluation::store::{evaluation_report_signatures, evaluation_reports};
use crate::id::{LotId, TenderId};
use crate::keys::PlatformSigner;
use crate::store::begin_write;

fn sha256_hex(text: &str) -> String {
    tenderhall_model::evaluation::k::commitment(text.as_bytes())
}

/// The report of a scored room; `None` before every member has scored, or while a clarification
/// is open.
fn body(room: &Room) -> DomainResult<Option<Value>> {
    // A question still open would change what is signed: the report waits for it.
    if room.phase() != Phase::Scored || room.open_clarifications() > 0 || room.round_open() {
        return Ok(None);
    }
    let sheets: Vec<Value> = room
        .sheets
        .iter()
        .map(|s| {
            json!({
                "expert_id": s.expert_id,
                "phase": s.phase,
                "sheet_sha256": sha256_hex(&s.body),
                "signature": s.signature,
                "key_id": s.key_id,
            })
        })
        .collect();
    Ok(Some(json!({
        "kind": "evaluation_report",
        "tender_id": room.tender_id,
        "lot_id": room.lot_id,
        "evaluation": room.setup_input,
        "k": room.k.normalize().to_string(),
        "committee": room.members,
        "bids": room.bids.iter().map(|b| json!({
            "bidder_id": b.bidder_id, "bidder_name": b.bidder_name, "fields": b.fields,
        })).collect::<Vec<_>>(),
        "sheets": sheets,
        "clarifications": room.clarifications.iter().map(super::clarify::shown).collect::<Vec<_>>(),
        "rounds": room.rounds.iter().filter_map(crate::evaluation::service::rounds::record_of).collect::<Vec<_>>(),
        "compliance": compliance_json(room),
        "ranking": ranking_json(room)?,
    })))
}

/// The platform-signed record of a lot's report, once every member has signed.
async fn final_record(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Option<Value>> {
    evaluation_reports::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(db)
        .await?
        .map(|r| serde_json::from_str(&r.record).map_err(DomainError::internal))
        .transpose()
}

async fn signatures(
    db: &impl ConnectionTrait,
    room: &Room,
) -> DomainResult<Vec<evaluation_report_signatures::Model>> {
    Ok(evaluation_report_signatures::Entity::find()
        .filter(evaluation_report_signatures::Column::TenderId.eq(room.tender_id.as_str()))
        .filter(evaluation_report_signatures::Column::LotId.eq(room.lot_id.as_str()))
        .all(db)
        .await?
        .into_iter()
        .filter(|s| room.members.binary_search(&s.expert_id).is_ok())
        .collect())
}

fn signature_json(s: &evaluation_report_signatures::Model) -> Value {
    json!({
        "expert_id": s.expert_id,
        "report_sha256": s.report_sha256,
        "dissent": s.dissent,
        "signature": s.signature,
        "key_id": s.key_id,
        "public_key": s.public_key,
        "signed_at": crate::time::rfc3339(s.signed_at),
    })
}

/// What a member signs: the canonical JSON of `{dissent, expert_id, report_sha256}`.
pub fn signed_message(expert_id: &str, report_sha256: &str, dissent: Option<&str>) -> String {
    to_canonical_string(&json!({
        "dissent": dissent,
        "expert_id": expert_id,
        "report_sha256": report_sha256,
    }))
}

/// The report of a lot. Once signed by all and the platform: the record, for the committee,
/// supervisors and the tender's owners. Before: the draft with the signatures so far, for the
/// committee and supervisors. 404 to anybody else, and before every member has scored.
pub async fn report(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Value> {
    let room = load(db, tender, lot).await?.ok_or(DomainError::NotFound)?;
    let viewer = room.viewer(principal);
    if let Some(record) = final_record(db, tender, lot).await? {
        let owner = crate::tender::service::load(db, tender.as_str())
            .await?
            .is_some_and(|t| t.is_owned_by(principal));
        if viewer.is_none() && !owner {
            return Err(DomainError::NotFound);
        }
        return Ok(json!({"status": "signed", "record": record}));
    }
    viewer.ok_or(DomainError::NotFound)?;
    let report = body(&room)?.ok_or(DomainError::NotFound)?;
    let digest = sha256_hex(&to_canonical_string(&report));
    let signed: Vec<Value> = signatures(db, &room)
        .await?
        .iter()
        .filter(|s| s.report_sha256 == digest)
        .map(signature_json)
        .collect();
    Ok(json!({
        "status": "signing",
        "report": report,
        "report_sha256": digest,
        "signatures": signed,
    }))
}

/// A member signs the report's digest, with its dissent if any. The last signature makes the
/// platform sign the record in the same transaction.
#[allow(clippy::too_many_arguments)]
pub async fn sign_report(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    report_sha256: &str,
    dissent: Option<String>,
    signature: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    // Kept exactly as signed: the signature covers these bytes.
    let dissent = dissent.filter(|d| !d.trim().is_empty());
    if dissent.as_ref().is_some_and(|d| d.chars().count() > 10_000) {
        return Err(DomainError::invalid(
            "dissent",
            "A dissent is at most 10,000 characters.",
            "不同意见不超过 10,000 字。",
        ));
    }
    let txn = begin_write(db).await?;
    crate::tender::store::queries::lock(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let room = load(&txn, tender, lot)
        .await?
        .ok_or(DomainError::NotFound)?;
    let Some(Viewer::Member(expert)) = room.viewer(principal) else {
        return Err(DomainError::NotFound);
    };
    let Some(report) = body(&room)? else {
        return Err(DomainError::Refused {
            code: ErrorCode::WrongPhase,
            message: Text::new(
                "The report is signed once every member has scored.",
                "全体成员评分完毕后方可签署评标报告。",
            ),
        });
    };
    let digest = sha256_hex(&to_canonical_string(&report));
    if report_sha256 != digest {
        return Err(DomainError::invalid(
            "report_sha256",
            "This is not the digest of the report as it stands: read it again and sign what you read.",
            "与当前评标报告的摘要不符：请重新阅读后签署。",
        ));
    }
    let already = signatures(&txn, &room).await?;
    if already.iter().any(|s| s.expert_id == expert) {
        return Err(DomainError::Refused {
            code: ErrorCode::SheetLocked,
            message: Text::new(
                "You have signed this report; a signature is not changed.",
                "您已签署该评标报告，签名不得更改。",
            ),
        });
    }
    let (key_id, public_key) = crate::expert::store::queries::signing_key(&txn, &expert)
        .await?
        .ok_or_else(|| {
            DomainError::invalid(
                "signature",
                "Register your signing key first (PUT /api/v1/experts/me/signing-key).",
                "请先登记您的签名公钥（PUT /api/v1/experts/me/signing-key）。",
            )
        })?;
    let raw = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(&public_key)
            .map_err(DomainError::internal)?
    };
    let message = signed_message(&expert, &digest, dissent.as_deref());
    if !crate::keys::verify_ed25519(&raw, message.as_bytes(), signature) {
        return Err(DomainError::Invalid {
            code: ErrorCode::BadBidSignature,
            field: Some("signature".into()),
            message: Text::new(
                "The signature does not verify over {dissent, expert_id, report_sha256} under your registered key: nothing was recorded.",
                "签名无法以您登记的公钥对 {dissent, expert_id, report_sha256} 验证：未作记录。",
            ),
        });
    }
    let row = evaluation_report_signatures::Model {
        tender_id: room.tender_id.clone(),
        lot_id: room.lot_id.clone(),
        expert_id: expert.clone(),
        report_sha256: digest.clone(),
        dissent: dissent.clone(),
        signature: signature.to_owned(),
        key_id,
        public_key,
        signed_at: now,
    };
    evaluation_report_signatures::Entity::insert(evaluation_report_signatures::ActiveModel {
        tender_id: Set(row.tender_id.clone()),
        lot_id: Set(row.lot_id.clone()),
        expert_id: Set(row.expert_id.clone()),
        report_sha256: Set(row.report_sha256.clone()),
        dissent: Set(row.dissent.clone()),
        signature: Set(row.signature.clone()),
        key_id: Set(row.key_id.clone()),
        public_key: Set(row.public_key.clone()),
        signed_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    let object = format!("lot:{}/{}", room.tender_id, room.lot_id);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(&room.tender_id),
            &actor,
            "evaluation.sign",
            object.clone(),
        )
        .details(
            json!({"expert_id": expert, "report_sha256": digest, "dissent": dissent.is_some()}),
        ),
        now,
    )
    .await?;
    let mut all: Vec<evaluation_report_signatures::Model> = already
        .into_iter()
        .filter(|s| s.report_sha256 == digest)
        .collect();
    all.push(row);
    let complete = room
        .members
        .iter()
        .all(|m| all.iter().any(|s| &s.expert_id == m));
    if complete {
        all.sort_by(|a, b| a.expert_id.cmp(&b.expert_id));
        let mut record = json!({
            "report": report,
            "report_sha256": digest,
            "signatures": all.iter().map(signature_json).collect::<Vec<_>>(),
            "signed_at": crate::time::rfc3339(now),
            "platform_key": signer.key_id(),
        });
        let platform_signature = signer.sign(to_canonical_string(&record).as_bytes());
        record["signature"] = Value::String(platform_signature);
        evaluation_reports::Entity::insert(evaluation_reports::ActiveModel {
            tender_id: Set(room.tender_id.clone()),
            lot_id: Set(room.lot_id.clone()),
            report_sha256: Set(digest.clone()),
            record: Set(to_canonical_string(&record)),
            signed_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
        audit::append(
            &txn,
            NewEntry::new(Chain::tender(&room.tender_id), &Actor::system(), "evaluation.report", object.clone())
                .details(json!({"report_sha256": digest, "candidates": record["report"]["ranking"]["candidates"]})),
            now,
        )
        .await?;
        let tender_row = crate::tender::store::queries::by_id(&txn, &room.tender_id)
            .await?
            .ok_or(DomainError::NotFound)?;
        let message =
            crate::notify::evaluation_reported(&tender_row.title, &room.tender_id, &room.lot_id);
        for org in crate::tender::store::queries::owner_organizations(&txn, &tender_row).await? {
            crate::notify::service::notify_organization(
                &txn,
                &org,
                "evaluation.report",
                Some(object.clone()),
                &message,
                true,
                now,
            )
            .await?;
        }
        // The candidates go public in the same transaction (实施条例 Art 54: within 3 days).
        crate::evaluation::service::candidates::publish_in(
            &txn,
            signer,
            &tender_row,
            &room.lot_id,
            &record["report"],
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(json!({
        "expert_id": expert,
        "report_sha256": digest,
        "status": if complete { "signed" } else { "signing" },
    }))
}
