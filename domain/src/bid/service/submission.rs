//! Submitting, replacing and withdrawing a sealed bid (docs/spec/receipts-and-records.md "Receipt", docs/spec/api-contract.md). A bid
//! counts if and only if its receipt was committed at server time before the deadline: recording
//! takes the tender's row lock and reads the clock after it, so a bid and the deadline's close can
//! never both win. Who bid stays on the sealed audit chain until the deadline (电子招标投标办法
//! Art 21); no error here tells one bidder anything about another's bid.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::account::{OrganizationKind, Principal};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::bid::envelope::Checked;
use crate::canonical::to_canonical_string;
use crate::deposit::service as deposits;
use tenderhall_model::bid::{self as rules, BidRefusal, Revocation};
use tenderhall_model::state::BidStatus;

use crate::deposit::store::queries::active_registration;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{LotId, TenderId};
use crate::keys::PlatformSigner;
use crate::ports::StoredObject;
use crate::store::begin_write;
use crate::tender::TenderStatus;
use crate::tender::store::queries as tender_queries;
use crate::time::Clock;

use super::super::store::bids;

/// The signed receipt (回执), or a withdrawal receipt (`withdrawn_at` in place of `received_at`
/// and `size`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub tender: String,
    pub lot: String,
    pub bidder: String,
    /// The final-quote round a quote's receipt is for (docs/spec/evaluation.md "Final quotes");
    /// absent on a bid's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub round: Option<i32>,
    pub envelope_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub received_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub withdrawn_at: Option<String>,
    pub seq: i64,
    pub platform_key: String,
    pub signature: String,
}

impl Receipt {
    /// Signs the canonical JSON of every field but `signature`.
    pub(crate) fn signed(mut self, signer: &PlatformSigner) -> DomainResult<Self> {
        self.platform_key = signer.key_id().to_owned();
        self.signature = String::new();
        let mut value = serde_json::to_value(&self).map_err(DomainError::internal)?;
        if let Some(object) = value.as_object_mut() {
            object.remove("signature");
        }
        self.signature = signer.sign(to_canonical_string(&value).as_bytes());
        Ok(self)
    }

    pub fn to_json(&self) -> DomainResult<String> {
        let value = serde_json::to_value(self).map_err(DomainError::internal)?;
        Ok(to_canonical_string(&value))
    }
}

/// What the upload is checked against, read before a byte of it: the caller's registration, the
/// lot's opening key and the organization's unrevoked signing keys.
#[derive(Debug, Clone)]
pub struct Intake {
    pub tender_id: String,
    pub lot_id: String,
    pub organization_id: String,
    /// The account uploading, for the audit entry.
    pub account_id: String,
    /// Key id of the lot's opening key.
    pub recipient: String,
    /// Unrevoked signing keys of the organization: key id → raw public key.
    pub signers: HashMap<String, Vec<u8>>,
    pub deadline: DateTime<Utc>,
}

/// Refused at or after the deadline, by server time (the upload checks of docs/spec/envelope.md).
pub fn deadline_passed() -> DomainError {
    DomainError::Refused {
        code: ErrorCode::DeadlinePassed,
        message: Text::new(
            "The bid deadline has passed (server time): nothing was accepted.",
            "已过投标截止时间（以服务器时间为准），未接受任何提交。",
        ),
    }
}

/// A refusal of the bid rules ([`rules`]) as the API answers it.
fn refusal(r: BidRefusal) -> DomainError {
    match r {
        BidRefusal::DeadlinePassed => deadline_passed(),
        BidRefusal::DeadlineNotPassed => DomainError::refused(
            r.code(),
            "Before the bid deadline a bid is withdrawn (DELETE .../bid), not revoked.",
            "投标截止前请撤回投标（DELETE .../bid），而非撤销。",
        ),
        BidRefusal::NotRegistered => DomainError::refused(
            r.code(),
            "Register for the lot before bidding.",
            "请先报名该标段再投标。",
        ),
        BidRefusal::NoCurrentBid => DomainError::NotFound,
    }
}

/// Whether an upload that is still arriving came too late to count (the route asks as the last
/// byte arrives; 电子招标投标办法 Art 26).
pub fn upload_too_late(intake: &Intake, now: DateTime<Utc>) -> bool {
    rules::upload_too_late(intake.deadline, now)
}

fn not_registered(lot: &str) -> DomainError {
    DomainError::Invalid {
        code: ErrorCode::NotRegistered,
        field: None,
        message: Text::new(
            format!("Your organization is not registered for lot `{lot}`: register first."),
            format!("贵单位未报名标段 `{lot}`，请先报名。"),
        ),
    }
}

/// Everything checked before the upload is read: a bidder registered for the lot of an active
/// tender, before its deadline.
pub async fn prepare(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
    now: DateTime<Utc>,
) -> DomainResult<Intake> {
    let (tender_id, lot_id) = (tender.as_str(), lot.as_str());
    let membership = principal.require_kind(&[OrganizationKind::Bidder])?;
    let organization_id = membership.organization_id.to_string();
    let tender = crate::tender::service::get(db, Some(principal), tender).await?;
    let lot = tender
        .lots
        .iter()
        .find(|l| l.id == lot_id)
        .ok_or(DomainError::NotFound)?;
    if !rules::bidding_open(
        tender.status == TenderStatus::Active,
        tender.bid_deadline,
        now,
    ) {
        return Err(deadline_passed());
    }
    let opening_key = lot.opening_key.as_ref().ok_or(DomainError::NotFound)?;
    let registered = active_registration(db, tender_id, lot_id, &organization_id).await?;
    if registered.is_none() {
        return Err(not_registered(lot_id));
    }
    let mut signers = HashMap::new();
    for key in crate::keys::store::queries::unrevoked_of(db, &organization_id).await? {
        if let Ok(raw) = STANDARD.decode(&key.public_key) {
            signers.insert(key.key_id, raw);
        }
    }
    Ok(Intake {
        tender_id: tender_id.to_owned(),
        lot_id: lot_id.to_owned(),
        organization_id,
        account_id: principal.account_id.to_string(),
        recipient: opening_key.key_id.clone(),
        signers,
        deadline: tender.bid_deadline,
    })
}

/// Locks the tender's row, then reads the clock: after this, a bid committed before the deadline
/// is seen by the opening, and one that is not is refused.
async fn lock_before_deadline(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    clock: &dyn Clock,
) -> DomainResult<DateTime<Utc>> {
    let tender = tender_queries::lock(txn, tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let now = clock.now();
    let active = tender.status == TenderStatus::Active.as_str();
    if !rules::bidding_open(active, tender.bid_deadline, now) {
        return Err(deadline_passed());
    }
    Ok(now)
}

/// Records a checked, durably stored envelope as the bidder's current bid and signs its receipt,
/// in one transaction with its audit entry. The previous bid, if any, is replaced only now.
pub async fn record(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    intake: &Intake,
    checked: &Checked,
    stored: &StoredObject,
    ip: Option<String>,
    clock: &dyn Clock,
) -> DomainResult<Receipt> {
    if stored.sha256 != checked.sha256 || stored.size != checked.size {
        return Err(DomainError::internal(
            "the stored envelope differs from the checked one",
        ));
    }
    let txn = begin_write(db).await?;
    let now = lock_before_deadline(&txn, &intake.tender_id, clock).await?;
    // The registration may have been withdrawn while the envelope was uploading; a deposit refunded
    // after an earlier withdrawal of the bid can be paid again.
    let registered = deposits::reopen_for_bid(
        &txn,
        &intake.tender_id,
        &intake.lot_id,
        &intake.organization_id,
    )
    .await?;
    let mine = bids::Entity::find()
        .filter(bids::Column::TenderId.eq(intake.tender_id.as_str()))
        .filter(bids::Column::LotId.eq(intake.lot_id.as_str()))
        .filter(bids::Column::OrganizationId.eq(intake.organization_id.as_str()));
    let last_seq = mine
        .clone()
        .select_only()
        .column_as(Expr::cust("COALESCE(MAX(seq), 0)"), "seq")
        .into_tuple::<i64>()
        .one(&txn)
        .await?
        .unwrap_or(0);
    // Bidding is open: `lock_before_deadline` holds the tender's row and found it so.
    let plan = rules::decide_submission(true, registered, last_seq, last_seq > 0).map_err(|r| {
        if r == BidRefusal::NotRegistered {
            not_registered(&intake.lot_id)
        } else {
            refusal(r)
        }
    })?;
    let seq = plan.seq;
    if plan.replaces {
        // A bidder whose last bid was withdrawn has none current: this then changes nothing.
        bids::Entity::update_many()
            .col_expr(
                bids::Column::Status,
                Expr::value(BidStatus::Replaced.as_str()),
            )
            .filter(bids::Column::TenderId.eq(intake.tender_id.as_str()))
            .filter(bids::Column::LotId.eq(intake.lot_id.as_str()))
            .filter(bids::Column::OrganizationId.eq(intake.organization_id.as_str()))
            .filter(bids::Column::Status.eq(BidStatus::Current.as_str()))
            .exec(&txn)
            .await?;
    }
    let receipt = Receipt {
        tender: intake.tender_id.clone(),
        lot: intake.lot_id.clone(),
        bidder: intake.organization_id.clone(),
        round: None,
        envelope_sha256: checked.sha256.clone(),
        size: Some(checked.size),
        received_at: Some(crate::time::rfc3339(now)),
        withdrawn_at: None,
        seq,
        platform_key: String::new(),
        signature: String::new(),
    }
    .signed(signer)?;
    let id = format!("bid_{}", uuid::Uuid::now_v7().simple());
    bids::Entity::insert(bids::ActiveModel {
        id: Set(id.clone()),
        tender_id: Set(intake.tender_id.clone()),
        lot_id: Set(intake.lot_id.clone()),
        organization_id: Set(intake.organization_id.clone()),
        seq: Set(seq),
        envelope_sha256: Set(checked.sha256.clone()),
        size: Set(i64::try_from(checked.size).map_err(DomainError::internal)?),
        signer_key_id: Set(checked.header.signer.clone()),
        received_at: Set(now),
        status: Set(BidStatus::Current.as_str().to_owned()),
        withdrawn_at: Set(None),
        receipt: Set(receipt.to_json()?),
        withdrawal_receipt: Set(None),
        outcome: Set(None),
        outcome_reason: Set(None),
        plaintext_sha256: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    let mut entry = NewEntry::new(
        Chain::tender_sealed(&intake.tender_id),
        &Actor::account(&intake.account_id, ip),
        "bid.submit",
        format!("bid:{id}"),
    )
    .details(json!({
        "lot": intake.lot_id,
        "organization_id": intake.organization_id,
        "seq": seq,
        "envelope_sha256": checked.sha256,
        "size": checked.size,
    }));
    entry.withheld_until = Some(intake.deadline);
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(receipt)
}

/// The caller's current bid for the lot, with its receipt: `NotFound` when it has none.
pub async fn current(
    db: &impl ConnectionTrait,
    principal: &Principal,
    tender: &TenderId,
    lot: &LotId,
) -> DomainResult<(bids::Model, Receipt)> {
    current_bid(db, principal, tender.as_str(), lot.as_str()).await
}

async fn current_bid(
    db: &impl ConnectionTrait,
    principal: &Principal,
    tender_id: &str,
    lot_id: &str,
) -> DomainResult<(bids::Model, Receipt)> {
    let membership = principal.require_kind(&[OrganizationKind::Bidder])?;
    let row = bids::Entity::find()
        .filter(bids::Column::TenderId.eq(tender_id))
        .filter(bids::Column::LotId.eq(lot_id))
        .filter(bids::Column::OrganizationId.eq(membership.organization_id.as_str()))
        .filter(bids::Column::Status.eq(BidStatus::Current.as_str()))
        .order_by_desc(bids::Column::Seq)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let receipt = serde_json::from_str(&row.receipt).map_err(DomainError::internal)?;
    Ok((row, receipt))
}

/// Withdraws (撤回) the caller's current bid before the deadline and signs the withdrawal receipt;
/// the deposit goes back within 5 days, with interest at `rate` (实施条例 Art 35). The lot stays a
/// string: the deadline is answered (409) before the lot is looked up, so a lot that cannot be one
/// must reach that check as any unknown lot does.
#[allow(clippy::too_many_arguments)]
pub async fn withdraw(
    db: &DatabaseConnection,
    signer: &PlatformSigner,
    principal: &Principal,
    tender: &TenderId,
    lot_id: &str,
    rate: Decimal,
    ip: Option<String>,
    clock: &dyn Clock,
) -> DomainResult<Receipt> {
    let tender_id = tender.as_str();
    let txn = begin_write(db).await?;
    let now = lock_before_deadline(&txn, tender_id, clock).await?;
    let (row, _) = current_bid(&txn, principal, tender_id, lot_id).await?;
    let status = BidStatus::parse(&row.status);
    let withdrawn = rules::decide_withdrawal(true, status).map_err(refusal)?;
    let receipt = Receipt {
        tender: row.tender_id.clone(),
        lot: row.lot_id.clone(),
        bidder: row.organization_id.clone(),
        round: None,
        envelope_sha256: row.envelope_sha256.clone(),
        size: None,
        received_at: None,
        withdrawn_at: Some(crate::time::rfc3339(now)),
        seq: row.seq,
        platform_key: String::new(),
        signature: String::new(),
    }
    .signed(signer)?;
    bids::Entity::update(bids::ActiveModel {
        id: Set(row.id.clone()),
        status: Set(withdrawn.as_str().to_owned()),
        withdrawn_at: Set(Some(now)),
        withdrawal_receipt: Set(Some(receipt.to_json()?)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let refund =
        deposits::refund_withdrawn_bid(&txn, tender_id, lot_id, &row.organization_id, rate, now)
            .await?;
    let deadline = tender_queries::bid_deadline(&txn, tender_id).await?;
    let mut entry = NewEntry::new(
        Chain::tender_sealed(tender_id),
        &Actor::account(principal.account_id.as_str(), ip),
        "bid.withdraw",
        format!("bid:{}", row.id),
    )
    .details(json!({
        "lot": lot_id,
        "organization_id": row.organization_id,
        "seq": row.seq,
        "refund_id": refund,
    }));
    entry.withheld_until = deadline;
    audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(receipt)
}

/// Revokes (撤销) the caller's bid after the deadline: the bid no longer counts and its deposit is
/// forfeited (实施条例 Art 35), in one transaction with the audit entry. Before the deadline a bid is
/// withdrawn instead (refunded); revoking twice changes nothing. The lot stays a string, as for
/// [`withdraw`]: before the deadline any lot is answered 409.
pub async fn revoke(
    db: &DatabaseConnection,
    principal: &Principal,
    tender: &TenderId,
    lot_id: &str,
    ip: Option<String>,
    clock: &dyn Clock,
) -> DomainResult<()> {
    let tender_id = tender.as_str();
    let membership = principal.require_kind(&[OrganizationKind::Bidder])?;
    let organization_id = membership.organization_id.to_string();
    let txn = begin_write(db).await?;
    let tender = tender_queries::lock(&txn, tender_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    let now = clock.now();
    let bid = bids::Entity::find()
        .filter(bids::Column::TenderId.eq(tender_id))
        .filter(bids::Column::LotId.eq(lot_id))
        .filter(bids::Column::OrganizationId.eq(organization_id.as_str()))
        .filter(
            bids::Column::Status.is_in([BidStatus::Current.as_str(), BidStatus::Revoked.as_str()]),
        )
        .one(&txn)
        .await?;
    let status = bid.as_ref().and_then(|b| BidStatus::parse(&b.status));
    let decision = rules::decide_revocation(tender.bid_deadline, now, status).map_err(refusal)?;
    let Some(bid) = bid.filter(|_| decision == Revocation::Revoke) else {
        txn.rollback().await?;
        return Ok(());
    };
    bids::Entity::update(bids::ActiveModel {
        id: Set(bid.id.clone()),
        status: Set(BidStatus::Revoked.as_str().to_owned()),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let registration = active_registration(&txn, tender_id, lot_id, &organization_id).await?;
    let forfeited = match registration {
        Some(r) => {
            crate::deposit::service::forfeit_registration_in(
                &txn,
                &r.id,
                "bid revoked after the deadline (实施条例 Art 35)",
                now,
            )
            .await?
        }
        None => 0,
    };
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(tender_id),
            &Actor::account(principal.account_id.as_str(), ip),
            "bid.revoke",
            format!("bid:{}", bid.id),
        )
        .details(
            json!({"lot": lot_id, "organization_id": organization_id, "forfeited_fen": forfeited}),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
