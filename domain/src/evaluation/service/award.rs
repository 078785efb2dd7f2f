//! The award and the contract (docs/spec/evaluation.md "Award and contract"). Once the
//! candidates' publicity has ended with every objection answered, the tender's owner names the
//! winner: the first-ranked candidate, or a later one with the reason that passes over those above
//! it (实施条例 Art 55). In one transaction the platform signs the award notice, the lot becomes
//! awarded, the committee's draw becomes final (its proof public), the winner gets the award
//! notice and the other bidders the result, government procurement refunds the losers' deposits
//! (87号令 Art 38), and the chronograph is set to remind of the contract. The contract is
//! recorded within 30 days (招标投标法 Art 46) with a performance bond of at most 10 % (实施条例
//! Art 58), and the deposits due back then are booked in its transaction (实施条例 Art 57).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use tenderhall_model::evaluation::award::{
    AwardRefusal, CONTRACT_DAYS, REMINDER_DAYS_BEFORE, bond_allowed, may_award,
};
use tenderhall_model::evaluation::publicity::Status;

use super::super::store::{lot_awards, lot_candidates};
use crate::account::Principal;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::canonical::to_canonical_string;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{LotId, RegistrationId, TenderId};
use crate::jobs::NewJob;
use crate::keys::PlatformSigner;
use crate::store::begin_write;
use crate::tender::procedure::Kind;
use crate::tender::scaled_days;

/// The chronograph's reminder that a contract is due.
pub const CONTRACT_REMINDER_JOB: &str = "contract.reminder";

fn signed(signer: &PlatformSigner, mut record: Value) -> Value {
    record["platform_key"] = Value::String(signer.key_id().to_owned());
    let signature = signer.sign(to_canonical_string(&record).as_bytes());
    record["signature"] = Value::String(signature);
    record
}

/// The owner's tender row, locked, or 404 for anyone else.
async fn owned_locked(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    tender: &TenderId,
) -> DomainResult<crate::tender::store::tenders::Model> {
    let row = crate::tender::store::queries::lock(txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let owned = crate::tender::service::load(txn, tender.as_str())
        .await?
        .is_some_and(|t| t.is_owned_by(principal));
    if !owned {
        return Err(DomainError::NotFound);
    }
    // A cancelled tender (终止) awards nothing and signs no contract.
    if row.status == crate::tender::TenderStatus::Cancelled.as_str() {
        return Err(DomainError::Refused {
            code: ErrorCode::TenderNotActive,
            message: Text::new(
                "This tender was cancelled: nothing is awarded or contracted under it.",
                "该项目已终止，不得定标或订立合同。",
            ),
        });
    }
    Ok(row)
}

fn is_gp(row: &crate::tender::store::tenders::Model) -> bool {
    matches!(row.kind.parse::<Kind>(), Ok(Kind::Goods | Kind::Services))
}

/// The owner names the winner of a lot.
#[allow(clippy::too_many_arguments)]
pub async fn award(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    bidder_id: &str,
    reason: Option<String>,
    rate: Decimal,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let txn = begin_write(db).await?;
    let row = owned_locked(&txn, principal, tender).await?;
    let candidates = lot_candidates::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if lot_awards::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(DomainError::Refused {
            code: ErrorCode::AlreadyAwarded,
            message: Text::new("This lot has its winner.", "该标段已确定中标人。"),
        });
    }
    let status = super::candidates::status_of(&txn, &candidates, now).await?;
    if status != Status::Ended {
        return Err(DomainError::Refused {
            code: ErrorCode::WrongPhase,
            message: Text::new(
                format!(
                    "The candidates' publicity is `{}`: the winner is named after it ends with every objection answered (实施条例 Art 54).",
                    status.as_str()
                ),
                format!(
                    "中标候选人公示状态为 `{}`：须待公示期满且异议均已答复后确定中标人（实施条例第五十四条）。",
                    status.as_str()
                ),
            ),
        });
    }
    let list: Value = serde_json::from_str(&candidates.record).map_err(DomainError::internal)?;
    let chosen = list["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["bidder_id"] == bidder_id)
        .cloned();
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    match may_award(
        chosen.as_ref().and_then(|c| c["rank"].as_u64()),
        reason.as_deref(),
    ) {
        Ok(()) => {}
        Err(AwardRefusal::NotACandidate) => {
            return Err(DomainError::invalid(
                "bidder_id",
                "Name one of the published candidates.",
                "请从公示的中标候选人中确定中标人。",
            ));
        }
        Err(AwardRefusal::FirstRankedPassedOver) => {
            return Err(DomainError::Invalid {
                code: ErrorCode::FirstRankedPassedOver,
                field: Some("reason".into()),
                message: Text::new(
                    "The first-ranked candidate wins (实施条例 Art 55); a later one only when those above it gave up, cannot perform, did not provide the bond or broke the rules: say which in `reason`.",
                    "应当确定排名第一的中标候选人为中标人（实施条例第五十五条）；仅当排名在前者放弃中标、不能履行合同、未提交履约保证金或被查实违法时方可依次确定其他候选人，请在 `reason` 中说明。",
                ),
            });
        }
    }
    let chosen = chosen.unwrap_or_default();
    let registration = crate::deposit::store::queries::active_registration(
        &txn,
        tender.as_str(),
        lot.as_str(),
        bidder_id,
    )
    .await?
    .ok_or_else(|| DomainError::internal("a candidate without its registration"))?;
    let accelerator = u32::try_from(row.accelerator).unwrap_or(1);
    let due = now + scaled_days(CONTRACT_DAYS, accelerator);
    let record = signed(
        signer,
        json!({
            "tender": tender.as_str(),
            "lot": lot.as_str(),
            "winner": chosen,
            "reason": reason,
            "candidates": list["candidates"],
            "awarded_at": crate::time::rfc3339(now),
            "contract_due": crate::time::rfc3339(due),
        }),
    );
    lot_awards::Entity::insert(lot_awards::ActiveModel {
        tender_id: Set(tender.to_string()),
        lot_id: Set(lot.to_string()),
        winner_org_id: Set(bidder_id.to_owned()),
        registration_id: Set(registration.id.clone()),
        record: Set(to_canonical_string(&record)),
        awarded_at: Set(now),
        contract_due: Set(due),
        contract_record: Set(None),
        contract_at: Set(None),
        reminded_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    crate::tender::store::queries::set_lot_status(&txn, tender.as_str(), lot.as_str(), "awarded")
        .await?;
    super::status::settle_tender_in(&txn, tender.as_str(), now).await?;
    // The result is final: the committee's draw and its proof become public (招标投标法 Art 37).
    crate::draw::service::finalize(&txn, tender.as_str(), lot.as_str(), now).await?;
    if is_gp(&row) {
        crate::deposit::service::refund_losers_after_award_in(
            &txn,
            tender,
            lot,
            &RegistrationId::parse(&registration.id)?,
            rate,
            now,
        )
        .await?;
    }
    let object = format!("lot:{}/{}", tender, lot);
    audit::append(
        &txn,
        NewEntry::new(Chain::tender(tender.as_str()), &Actor::account(principal.account_id.as_str(), ip), "lot.award", object.clone())
            .details(json!({"winner": bidder_id, "reason": record["reason"], "contract_due": record["contract_due"]})),
        now,
    )
    .await?;
    let notice = crate::notify::award_notice(&row.title, tender.as_str(), lot.as_str(), true);
    let result = crate::notify::award_notice(&row.title, tender.as_str(), lot.as_str(), false);
    for org in crate::deposit::store::queries::registered_organizations_of_lot(
        &txn,
        tender.as_str(),
        lot.as_str(),
    )
    .await?
    {
        let (kind, message) = if org == bidder_id {
            ("award.notice", &notice)
        } else {
            ("award.result", &result)
        };
        crate::notify::service::notify_organization(
            &txn,
            &org,
            kind,
            Some(object.clone()),
            message,
            true,
            now,
        )
        .await?;
    }
    let remind_at = due - scaled_days(REMINDER_DAYS_BEFORE, accelerator);
    crate::jobs::service::enqueue(
        &txn,
        NewJob::new(
            CONTRACT_REMINDER_JOB,
            json!({"tender_id": tender.as_str(), "lot_id": lot.as_str()}),
            remind_at.max(now),
            format!("{CONTRACT_REMINDER_JOB}:{tender}:{lot}"),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(record)
}

/// The owner records the contract signed with the winner.
#[allow(clippy::too_many_arguments)]
pub async fn record_contract(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    contract_price: &str,
    performance_bond: Option<&str>,
    rate: Decimal,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Value> {
    let money = |field: &str, text: &str| -> DomainResult<Decimal> {
        text.parse::<Decimal>()
            .ok()
            .filter(|d| {
                d.scale() <= 2
                    && *d >= Decimal::ZERO
                    && *d <= tenderhall_model::evaluation::price::MAX_PRICE
            })
            .ok_or_else(|| {
                DomainError::invalid(
                    field,
                    "An amount in yuan, with at most 2 decimals.",
                    "金额须以元为单位，最多两位小数。",
                )
            })
    };
    let price = money("contract_price", contract_price)?;
    if price.is_zero() {
        return Err(DomainError::invalid(
            "contract_price",
            "The contract price is above zero.",
            "合同金额须大于零。",
        ));
    }
    let bond = performance_bond
        .map(|b| money("performance_bond", b))
        .transpose()?
        .unwrap_or_default();
    if !bond_allowed(bond, price) {
        return Err(DomainError::Invalid {
            code: ErrorCode::BondTooHigh,
            field: Some("performance_bond".into()),
            message: Text::new(
                "A performance bond is at most 10 % of the contract price (实施条例 Art 58).",
                "履约保证金不得超过中标合同金额的 10%（实施条例第五十八条）。",
            ),
        });
    }
    let txn = begin_write(db).await?;
    let row = owned_locked(&txn, principal, tender).await?;
    let award = lot_awards::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if award.contract_record.is_some() {
        return Err(DomainError::Refused {
            code: ErrorCode::AlreadyAnswered,
            message: Text::new("This lot's contract is recorded.", "该标段合同已备案。"),
        });
    }
    // A challenge raised after the award (GP), or a complaint accepted with a suspension, holds
    // the contract until it is answered or decided (政府采购法 Art 57).
    let published = lot_candidates::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(&txn)
        .await?;
    if let Some(published) = published
        && super::candidates::status_of(&txn, &published, now).await? == Status::Suspended
    {
        return Err(DomainError::Refused {
            code: ErrorCode::WrongPhase,
            message: Text::new(
                "The procedure is suspended by an unanswered objection or a complaint under review: the contract waits.",
                "采购活动因未答复的质疑或正在处理的投诉而暂停，暂不得签订合同。",
            ),
        });
    }
    let record = signed(
        signer,
        json!({
            "tender": tender.as_str(),
            "lot": lot.as_str(),
            "winner": award.winner_org_id,
            "contract_price": tenderhall_model::evaluation::price::cents_text(price),
            "performance_bond": tenderhall_model::evaluation::price::cents_text(bond),
            "recorded_at": crate::time::rfc3339(now),
            "contract_due": crate::time::rfc3339(award.contract_due),
            // 招标投标法 Art 46: within 30 days of the award notice.
            "within_period": now <= award.contract_due,
        }),
    );
    lot_awards::Entity::update(lot_awards::ActiveModel {
        tender_id: Set(award.tender_id.clone()),
        lot_id: Set(award.lot_id.clone()),
        contract_record: Set(Some(to_canonical_string(&record))),
        contract_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    super::status::settle_tender_in(&txn, tender.as_str(), now).await?;
    let refunds = crate::deposit::service::refund_after_contract_in(
        &txn,
        tender,
        lot,
        &RegistrationId::parse(&award.registration_id)?,
        is_gp(&row),
        rate,
        now,
    )
    .await?;
    audit::append(
        &txn,
        NewEntry::new(Chain::tender(tender.as_str()), &Actor::account(principal.account_id.as_str(), ip), "lot.contract", format!("lot:{tender}/{lot}"))
            .details(json!({"contract_price": record["contract_price"], "performance_bond": record["performance_bond"], "within_period": record["within_period"], "refunds": refunds.len()})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(record)
}

/// The award notice and the contract of a lot (anyone, once awarded): 404 before.
pub async fn view(
    db: &impl ConnectionTrait,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<Value> {
    let award = lot_awards::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let parse = |s: &str| serde_json::from_str::<Value>(s).map_err(DomainError::internal);
    Ok(json!({
        "award": parse(&award.record)?,
        "contract": award.contract_record.as_deref().map(parse).transpose()?,
    }))
}

/// The chronograph before the contract is due: if none is recorded, the owners and the winner
/// are reminded, once.
pub async fn contract_reminder(
    db: &DatabaseConnection,
    tender: &TenderId,
    lot: &LotId,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let Some(award) = lot_awards::Entity::find_by_id((tender.to_string(), lot.to_string()))
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    if award.contract_record.is_some() || award.reminded_at.is_some() {
        return Ok(());
    }
    lot_awards::Entity::update(lot_awards::ActiveModel {
        tender_id: Set(award.tender_id.clone()),
        lot_id: Set(award.lot_id.clone()),
        reminded_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let row = crate::tender::store::queries::by_id(&txn, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    let message = crate::notify::contract_reminder(
        &row.title,
        tender.as_str(),
        lot.as_str(),
        &crate::time::rfc3339(award.contract_due),
    );
    let mut told = crate::tender::store::queries::owner_organizations(&txn, &row).await?;
    told.push(award.winner_org_id.clone());
    for org in told {
        crate::notify::service::notify_organization(
            &txn,
            &org,
            "contract.reminder",
            Some(format!("lot:{tender}/{lot}")),
            &message,
            true,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
