//! Tender use cases: create and edit a draft, publish it, cancel it, read and list tenders, and keep
//! the holiday calendar. Each change is one transaction with its entry on the tender's audit chain.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::calendar::{HolidayCalendar, china_2026};
use super::procedure::{AwardMethod, Kind, Procedure, ProcedureSettings};
use super::store::{calendar_days, lots, tenders};
use super::{
    DEFAULT_BID_VALIDITY_DAYS, LotDraft, LotStatus, MAX_ACCELERATOR, TenderDraft, TenderStatus,
    check_publication,
};
use crate::account::store::organizations;
use crate::account::{OrganizationKind, Principal, parse_name};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::db::begin_write;
use crate::error::{DomainError, DomainResult, Text};
use crate::id::{TenderId, is_valid_id};
use crate::money::{Currency, Money, MoneyInput};

/// A lot as the tenderer sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotInput {
    pub id: String,
    pub title: String,
    pub budget: MoneyInput,
    pub deposit: MoneyInput,
    #[serde(default)]
    pub price_ceiling: Option<MoneyInput>,
}

/// A tender as the tenderer sends it (API.md "Tenders").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderInput {
    pub title: String,
    pub kind: String,
    pub procedure: String,
    pub award_method: String,
    pub lots: Vec<LotInput>,
    #[serde(default)]
    pub document_fee: Option<MoneyInput>,
    pub bid_deadline: DateTime<Utc>,
    #[serde(default)]
    pub bid_validity_days: Option<u32>,
    #[serde(default)]
    pub opening_fields: Option<Vec<String>>,
    #[serde(default)]
    pub accelerator: Option<u32>,
    /// For an agency: the tenderer organization it acts for.
    #[serde(default)]
    pub tenderer_id: Option<String>,
}

/// Changes to a draft: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderPatch {
    pub title: Option<String>,
    pub kind: Option<String>,
    pub procedure: Option<String>,
    pub award_method: Option<String>,
    pub lots: Option<Vec<LotInput>>,
    pub document_fee: Option<MoneyInput>,
    pub bid_deadline: Option<DateTime<Utc>>,
    pub bid_validity_days: Option<u32>,
    pub opening_fields: Option<Vec<String>>,
    pub accelerator: Option<u32>,
}

fn invalid(field: impl Into<String>, en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::Invalid {
        code: "invalid",
        field: Some(field.into()),
        message: Text::new(en, zh),
    }
}

fn money(field: &str, input: &MoneyInput) -> DomainResult<Money> {
    input
        .parse()
        .map_err(|e| invalid(field, format!("{e}"), format!("金额无效：{e}")))
}

fn enum_value<T: std::str::FromStr<Err = String>>(field: &str, value: &str) -> DomainResult<T> {
    value
        .parse()
        .map_err(|e: String| invalid(field, format!("{e}."), format!("`{field}` 取值无效：{e}。")))
}

/// Parses what the tenderer sent into a draft. `sandbox` allows an accelerator.
pub fn parse_input(input: &TenderInput, sandbox: bool) -> DomainResult<TenderDraft> {
    let title = parse_name("title", &input.title, 200)?;
    let kind: Kind = enum_value("kind", &input.kind)?;
    let procedure: Procedure = enum_value("procedure", &input.procedure)?;
    let award_method: AwardMethod = enum_value("award_method", &input.award_method)?;
    if input.lots.is_empty() || input.lots.len() > 200 {
        return Err(invalid(
            "lots",
            "A tender has 1 to 200 lots.",
            "一个项目须有 1 至 200 个标段。",
        ));
    }
    let mut lots = Vec::with_capacity(input.lots.len());
    for (i, lot) in input.lots.iter().enumerate() {
        let field = |name: &str| format!("lots[{i}].{name}");
        if !is_valid_id(&lot.id) {
            return Err(invalid(
                field("id"),
                "A lot id is 1 to 64 of A-Z a-z 0-9 _ -.",
                "标段编号须为 1 至 64 个字母、数字、_ 或 -。",
            ));
        }
        if lots.iter().any(|l: &LotDraft| l.id == lot.id) {
            return Err(invalid(
                field("id"),
                format!("Lot id `{}` appears twice.", lot.id),
                format!("标段编号 `{}` 重复。", lot.id),
            ));
        }
        let budget = money(&field("budget"), &lot.budget)?;
        let deposit = money(&field("deposit"), &lot.deposit)?;
        let price_ceiling = lot
            .price_ceiling
            .as_ref()
            .map(|c| money(&field("price_ceiling"), c))
            .transpose()?;
        if !budget.is_positive() {
            return Err(invalid(
                field("budget"),
                "The budget must be above zero.",
                "预算须大于零。",
            ));
        }
        if deposit.amount().is_sign_negative() {
            return Err(invalid(
                field("deposit"),
                "The deposit cannot be negative.",
                "保证金不能为负。",
            ));
        }
        if price_ceiling.is_some_and(|c| !c.is_positive()) {
            return Err(invalid(
                field("price_ceiling"),
                "A price ceiling must be above zero.",
                "最高投标限价须大于零。",
            ));
        }
        lots.push(LotDraft {
            id: lot.id.clone(),
            title: parse_name(&field("title"), &lot.title, 200)?,
            budget,
            deposit,
            price_ceiling,
        });
    }
    let document_fee = match &input.document_fee {
        Some(fee) => money("document_fee", fee)?,
        None => Money::zero(Currency::Cny),
    };
    if document_fee.amount().is_sign_negative() {
        return Err(invalid(
            "document_fee",
            "The document fee cannot be negative.",
            "文件费不能为负。",
        ));
    }
    let bid_validity_days = input.bid_validity_days.unwrap_or(DEFAULT_BID_VALIDITY_DAYS);
    if !(1..=365).contains(&bid_validity_days) {
        return Err(invalid(
            "bid_validity_days",
            "Bid validity is 1 to 365 days.",
            "投标有效期须为 1 至 365 天。",
        ));
    }
    let opening_fields = input.opening_fields.clone().unwrap_or_default();
    for (i, name) in opening_fields.iter().enumerate() {
        let ok = (1..=40).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok
            || name == "total_price"
            || name == "lot"
            || name == "currency"
            || opening_fields[..i].contains(name)
        {
            return Err(invalid(
                format!("opening_fields[{i}]"),
                "Opening fields are distinct snake_case names (total_price, lot and currency are always there).",
                "开标字段须为互不重复的小写英文名（total_price、lot、currency 始终包含）。",
            ));
        }
    }
    if opening_fields.len() > 20 {
        return Err(invalid(
            "opening_fields",
            "At most 20 opening fields.",
            "开标字段最多 20 个。",
        ));
    }
    let accelerator = input.accelerator.unwrap_or(1);
    if !(1..=MAX_ACCELERATOR).contains(&accelerator) {
        return Err(invalid(
            "accelerator",
            "The accelerator is an integer from 1 to 1,000,000.",
            "加速倍数须为 1 至 1,000,000 的整数。",
        ));
    }
    if accelerator != 1 && !sandbox {
        return Err(DomainError::SandboxOnly);
    }
    Ok(TenderDraft {
        title,
        kind,
        procedure,
        award_method,
        lots,
        document_fee,
        bid_deadline: input.bid_deadline,
        bid_validity_days,
        opening_fields,
        accelerator,
    })
}

/// A lot as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub id: String,
    pub title: String,
    pub budget: Money,
    pub deposit: Money,
    pub price_ceiling: Option<Money>,
    pub status: LotStatus,
}

/// A tender with its lots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tender {
    pub id: String,
    pub owner_org_id: String,
    pub tenderer_org_id: String,
    pub agency_org_id: Option<String>,
    pub title: String,
    pub kind: Kind,
    pub procedure: Procedure,
    pub award_method: AwardMethod,
    pub lots: Vec<Lot>,
    pub document_fee: Money,
    pub bid_deadline: DateTime<Utc>,
    pub bid_validity_days: u32,
    pub opening_fields: Vec<String>,
    pub accelerator: u32,
    pub status: TenderStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Tender {
    fn from_rows(t: tenders::Model, lot_rows: Vec<lots::Model>) -> DomainResult<Self> {
        let currency: Currency = t.currency.parse().map_err(DomainError::internal)?;
        let bad = |what: &str| DomainError::internal(format!("tender {} has a bad {what}", t.id));
        let mut lots = Vec::with_capacity(lot_rows.len());
        for l in lot_rows {
            lots.push(Lot {
                id: l.lot_id,
                title: l.title,
                budget: Money::from_minor_units(l.budget_fen, currency),
                deposit: Money::from_minor_units(l.deposit_fen, currency),
                price_ceiling: l
                    .price_ceiling_fen
                    .map(|f| Money::from_minor_units(f, currency)),
                status: LotStatus::parse(&l.status).ok_or_else(|| bad("lot status"))?,
            });
        }
        Ok(Self {
            kind: t.kind.parse().map_err(|_| bad("kind"))?,
            procedure: t.procedure.parse().map_err(|_| bad("procedure"))?,
            award_method: t.award_method.parse().map_err(|_| bad("award method"))?,
            status: TenderStatus::parse(&t.status).ok_or_else(|| bad("status"))?,
            opening_fields: serde_json::from_str(&t.opening_fields)
                .map_err(|_| bad("opening fields"))?,
            document_fee: Money::from_minor_units(t.document_fee_fen, currency),
            bid_validity_days: u32::try_from(t.bid_validity_days).map_err(|_| bad("validity"))?,
            accelerator: u32::try_from(t.accelerator).map_err(|_| bad("accelerator"))?,
            lots,
            id: t.id,
            owner_org_id: t.owner_org_id,
            tenderer_org_id: t.tenderer_org_id,
            agency_org_id: t.agency_org_id,
            title: t.title,
            bid_deadline: t.bid_deadline,
            published_at: t.published_at,
            cancelled_at: t.cancelled_at,
            cancel_reason: t.cancel_reason,
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
    }

    /// The draft's input again, to apply a patch to.
    fn to_input(&self) -> TenderInput {
        TenderInput {
            title: self.title.clone(),
            kind: self.kind.as_str().to_owned(),
            procedure: self.procedure.as_str().to_owned(),
            award_method: self.award_method.as_str().to_owned(),
            lots: self
                .lots
                .iter()
                .map(|l| LotInput {
                    id: l.id.clone(),
                    title: l.title.clone(),
                    budget: l.budget.into(),
                    deposit: l.deposit.into(),
                    price_ceiling: l.price_ceiling.map(Into::into),
                })
                .collect(),
            document_fee: Some(self.document_fee.into()),
            bid_deadline: self.bid_deadline,
            bid_validity_days: Some(self.bid_validity_days),
            opening_fields: Some(self.opening_fields.clone()),
            accelerator: Some(self.accelerator),
            tenderer_id: None,
        }
    }

    /// The organizations that own the tender: its creator and the tenderer it is for.
    pub fn is_owned_by(&self, principal: &Principal) -> bool {
        principal.is_member_of(&self.owner_org_id) || principal.is_member_of(&self.tenderer_org_id)
    }
}

fn fen(m: Money) -> DomainResult<i64> {
    m.minor_units().map_err(DomainError::internal)
}

async fn load(db: &impl ConnectionTrait, id: &str) -> DomainResult<Option<Tender>> {
    let Some(t) = tenders::Entity::find_by_id(id.to_owned()).one(db).await? else {
        return Ok(None);
    };
    let lot_rows = lots::Entity::find()
        .filter(lots::Column::TenderId.eq(id))
        .order_by_asc(lots::Column::Position)
        .all(db)
        .await?;
    Tender::from_rows(t, lot_rows).map(Some)
}

/// Loads a tender for its owner, locked for the change; anyone else gets `NotFound` (a draft is
/// its owner's alone, and a stranger learns nothing from the answer).
async fn load_owned(
    txn: &impl ConnectionTrait,
    principal: &Principal,
    id: &str,
) -> DomainResult<Tender> {
    if !is_valid_id(id) {
        return Err(DomainError::NotFound);
    }
    tenders::Entity::find_by_id(id.to_owned())
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let tender = load(txn, id).await?.ok_or(DomainError::NotFound)?;
    if tender.is_owned_by(principal) {
        Ok(tender)
    } else {
        Err(DomainError::NotFound)
    }
}

async fn write_lots(
    txn: &impl ConnectionTrait,
    tender_id: &str,
    draft: &TenderDraft,
    status: LotStatus,
) -> DomainResult<()> {
    lots::Entity::delete_many()
        .filter(lots::Column::TenderId.eq(tender_id))
        .exec(txn)
        .await?;
    for (position, lot) in draft.lots.iter().enumerate() {
        lots::Entity::insert(lots::ActiveModel {
            tender_id: Set(tender_id.to_owned()),
            lot_id: Set(lot.id.clone()),
            position: Set(i32::try_from(position).map_err(DomainError::internal)?),
            title: Set(lot.title.clone()),
            budget_fen: Set(fen(lot.budget)?),
            deposit_fen: Set(fen(lot.deposit)?),
            price_ceiling_fen: Set(lot.price_ceiling.map(fen).transpose()?),
            status: Set(status.as_str().to_owned()),
        })
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

fn conflict(code: &'static str, en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::Conflict {
        code,
        message: Text::new(en, zh),
    }
}

fn not_draft(t: &Tender) -> DomainError {
    conflict(
        "not_draft",
        format!(
            "The tender is {}, no longer a draft: it cannot be changed this way.",
            t.status.as_str()
        ),
        format!(
            "该项目状态为 {}，已不是草稿，不能这样修改。",
            t.status.as_str()
        ),
    )
}

/// A tenderer or agency (verified) creates a draft. An agency names the tenderer organization it
/// acts for, and the tender records both.
pub async fn create_draft(
    db: &DatabaseConnection,
    principal: &Principal,
    input: TenderInput,
    sandbox: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    let membership = principal
        .require_kind(&[OrganizationKind::Tenderer, OrganizationKind::Agency])?
        .clone();
    let draft = parse_input(&input, sandbox)?;
    let own = membership.organization_id.to_string();
    let (tenderer, agency) = match membership.kind {
        OrganizationKind::Agency => {
            let Some(tenderer_id) = input.tenderer_id.as_deref() else {
                return Err(invalid(
                    "tenderer_id",
                    "An agency names the tenderer organization it acts for in `tenderer_id`.",
                    "招标代理机构须在 `tenderer_id` 中注明委托的招标人机构。",
                ));
            };
            let org = organizations::Entity::find_by_id(tenderer_id.to_owned())
                .one(db)
                .await?;
            if org.is_none_or(|o| o.kind != OrganizationKind::Tenderer.as_str()) {
                return Err(invalid(
                    "tenderer_id",
                    "`tenderer_id` must name a tenderer organization on the platform.",
                    "`tenderer_id` 须为平台上的招标人机构。",
                ));
            }
            (tenderer_id.to_owned(), Some(own.clone()))
        }
        _ => {
            if input.tenderer_id.as_deref().is_some_and(|t| t != own) {
                return Err(invalid(
                    "tenderer_id",
                    "A tenderer creates tenders for itself; leave out `tenderer_id`.",
                    "招标人只能为本机构创建项目，请勿填写 `tenderer_id`。",
                ));
            }
            (own.clone(), None)
        }
    };
    let id = TenderId::generate().to_string();
    let txn = begin_write(db).await?;
    tenders::Entity::insert(tenders::ActiveModel {
        id: Set(id.clone()),
        owner_org_id: Set(own),
        tenderer_org_id: Set(tenderer),
        agency_org_id: Set(agency),
        title: Set(draft.title.clone()),
        kind: Set(draft.kind.as_str().to_owned()),
        procedure: Set(draft.procedure.as_str().to_owned()),
        award_method: Set(draft.award_method.as_str().to_owned()),
        document_fee_fen: Set(fen(draft.document_fee)?),
        currency: Set(draft.document_fee.currency().code().to_owned()),
        bid_deadline: Set(draft.bid_deadline),
        bid_validity_days: Set(
            i32::try_from(draft.bid_validity_days).map_err(DomainError::internal)?
        ),
        opening_fields: Set(
            serde_json::to_string(&draft.opening_fields).map_err(DomainError::internal)?
        ),
        accelerator: Set(i32::try_from(draft.accelerator).map_err(DomainError::internal)?),
        status: Set(TenderStatus::Draft.as_str().to_owned()),
        published_at: Set(None),
        cancelled_at: Set(None),
        cancel_reason: Set(None),
        created_by: Set(principal.account_id.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    write_lots(&txn, &id, &draft, LotStatus::Active).await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(Chain::tender(&id), &actor, "tender.create", format!("tender:{id}"))
            .details(json!({"title": draft.title, "kind": draft.kind.as_str(), "procedure": draft.procedure.as_str(), "lots": draft.lots.len()})),
        now,
    )
    .await?;
    let tender = load(&txn, &id)
        .await?
        .ok_or_else(|| DomainError::internal("created tender vanished"))?;
    txn.commit().await?;
    Ok(tender)
}

/// Edits a draft; only its owner, only while it is a draft.
pub async fn update_draft(
    db: &DatabaseConnection,
    principal: &Principal,
    id: &str,
    patch: TenderPatch,
    sandbox: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    let txn = begin_write(db).await?;
    let current = load_owned(&txn, principal, id).await?;
    if current.status != TenderStatus::Draft {
        return Err(not_draft(&current));
    }
    let mut input = current.to_input();
    let mut changed = Vec::new();
    macro_rules! apply {
        ($($field:ident),+) => {$(
            if let Some(value) = patch.$field {
                input.$field = value.into();
                changed.push(stringify!($field));
            }
        )+};
    }
    apply!(title, kind, procedure, award_method, lots, bid_deadline);
    if let Some(fee) = patch.document_fee {
        input.document_fee = Some(fee);
        changed.push("document_fee");
    }
    if let Some(days) = patch.bid_validity_days {
        input.bid_validity_days = Some(days);
        changed.push("bid_validity_days");
    }
    if let Some(fields) = patch.opening_fields {
        input.opening_fields = Some(fields);
        changed.push("opening_fields");
    }
    if let Some(accelerator) = patch.accelerator {
        input.accelerator = Some(accelerator);
        changed.push("accelerator");
    }
    let draft = parse_input(&input, sandbox)?;
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(id.to_owned()),
        title: Set(draft.title.clone()),
        kind: Set(draft.kind.as_str().to_owned()),
        procedure: Set(draft.procedure.as_str().to_owned()),
        award_method: Set(draft.award_method.as_str().to_owned()),
        document_fee_fen: Set(fen(draft.document_fee)?),
        bid_deadline: Set(draft.bid_deadline),
        bid_validity_days: Set(
            i32::try_from(draft.bid_validity_days).map_err(DomainError::internal)?
        ),
        opening_fields: Set(
            serde_json::to_string(&draft.opening_fields).map_err(DomainError::internal)?
        ),
        accelerator: Set(i32::try_from(draft.accelerator).map_err(DomainError::internal)?),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    write_lots(&txn, id, &draft, LotStatus::Active).await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(id),
            &actor,
            "tender.update",
            format!("tender:{id}"),
        )
        .details(json!({"changed": changed})),
        now,
    )
    .await?;
    let tender = load(&txn, id).await?.ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(tender)
}

/// Publishes a draft after checking it against the law for its kind: the procedure table, the
/// minimum period from now to the deadline, the deposit caps (RULES.md).
pub async fn publish(
    db: &DatabaseConnection,
    principal: &Principal,
    id: &str,
    procedures: &ProcedureSettings,
    sandbox: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    principal.require_verified()?;
    let calendar = load_calendar(db).await?;
    let txn = begin_write(db).await?;
    let current = load_owned(&txn, principal, id).await?;
    if current.status != TenderStatus::Draft {
        return Err(not_draft(&current));
    }
    // Parsed again with this server's sandbox flag: a draft made on a sandbox never publishes
    // accelerated on a production server.
    let draft = parse_input(&current.to_input(), sandbox)?;
    let rule = procedures.rule(draft.kind, draft.procedure);
    check_publication(&draft, rule.as_ref(), &calendar, now)?;
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(id.to_owned()),
        status: Set(TenderStatus::Active.as_str().to_owned()),
        published_at: Set(Some(now)),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(id),
            &actor,
            "tender.publish",
            format!("tender:{id}"),
        )
        .details(json!({
            "bid_deadline": crate::time::rfc3339(draft.bid_deadline),
            "accelerator": draft.accelerator,
            "min_bids": rule.as_ref().map(|r| r.min_bids),
        })),
        now,
    )
    .await?;
    let tender = load(&txn, id).await?.ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(tender)
}

/// Cancels (终止) a tender with a reason that is published with it. A draft, an active or a closed
/// tender may be cancelled; an awarded or complete one may not.
pub async fn cancel(
    db: &DatabaseConnection,
    principal: &Principal,
    id: &str,
    reason: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Tender> {
    let reason = parse_name("reason", reason, 2000)?;
    let txn = begin_write(db).await?;
    let current = load_owned(&txn, principal, id).await?;
    if !matches!(
        current.status,
        TenderStatus::Draft | TenderStatus::Active | TenderStatus::Closed
    ) {
        return Err(conflict(
            "not_cancellable",
            format!(
                "A tender that is {} cannot be cancelled.",
                current.status.as_str()
            ),
            format!("状态为 {} 的项目不能终止。", current.status.as_str()),
        ));
    }
    tenders::Entity::update(tenders::ActiveModel {
        id: Set(id.to_owned()),
        status: Set(TenderStatus::Cancelled.as_str().to_owned()),
        cancelled_at: Set(Some(now)),
        cancel_reason: Set(Some(reason.clone())),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    lots::Entity::update_many()
        .col_expr(
            lots::Column::Status,
            Expr::value(LotStatus::Cancelled.as_str()),
        )
        .filter(lots::Column::TenderId.eq(id))
        .exec(&txn)
        .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::tender(id),
            &actor,
            "tender.cancel",
            format!("tender:{id}"),
        )
        .details(json!({"reason": reason, "was": current.status.as_str()})),
        now,
    )
    .await?;
    let tender = load(&txn, id).await?.ok_or(DomainError::NotFound)?;
    txn.commit().await?;
    Ok(tender)
}

/// A tender as `viewer` may see it: published ones for anyone, a draft for its owners alone.
pub async fn get(
    db: &DatabaseConnection,
    viewer: Option<&Principal>,
    id: &str,
) -> DomainResult<Tender> {
    if !is_valid_id(id) {
        return Err(DomainError::NotFound);
    }
    let tender = load(db, id).await?.ok_or(DomainError::NotFound)?;
    if tender.published_at.is_none() && !viewer.is_some_and(|p| tender.is_owned_by(p)) {
        return Err(DomainError::NotFound);
    }
    Ok(tender)
}

/// Filters of the public list.
#[derive(Debug, Clone, Default)]
pub struct TenderFilter {
    pub kind: Option<Kind>,
    pub procedure: Option<Procedure>,
    pub status: Option<TenderStatus>,
    /// Words in the title.
    pub q: Option<String>,
    /// The caller's own tenders, drafts included.
    pub mine: bool,
}

/// A page of tenders and the cursor of the next.
#[derive(Debug, Clone)]
pub struct TenderPage {
    pub items: Vec<Tender>,
    pub next_cursor: Option<String>,
}

fn encode_cursor(t: &Tender) -> String {
    let at = t.published_at.unwrap_or(t.created_at);
    URL_SAFE_NO_PAD.encode(format!("{}|{}", at.timestamp_micros(), t.id))
}

fn decode_cursor(cursor: &str) -> DomainResult<(DateTime<Utc>, String)> {
    let bad = || {
        invalid(
            "cursor",
            "`cursor` must be a `next_cursor` from a previous page.",
            "`cursor` 须为上一页返回的 `next_cursor`。",
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (micros, id) = text.split_once('|').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    if !is_valid_id(id) {
        return Err(bad());
    }
    Ok((at, id.to_owned()))
}

/// Published tenders, newest publication first (or, with `mine`, the caller's own, newest first,
/// drafts included), filtered and paged by cursor.
pub async fn list(
    db: &DatabaseConnection,
    viewer: Option<&Principal>,
    filter: &TenderFilter,
    cursor: Option<&str>,
    limit: u64,
) -> DomainResult<TenderPage> {
    let order_col = if filter.mine {
        tenders::Column::CreatedAt
    } else {
        tenders::Column::PublishedAt
    };
    let mut query = tenders::Entity::find();
    if filter.mine {
        let Some(org) = viewer
            .and_then(|p| p.membership.as_ref())
            .map(|m| m.organization_id.to_string())
        else {
            return Err(DomainError::Unauthenticated);
        };
        query = query.filter(
            Condition::any()
                .add(tenders::Column::OwnerOrgId.eq(org.clone()))
                .add(tenders::Column::TendererOrgId.eq(org)),
        );
    } else {
        query = query.filter(tenders::Column::PublishedAt.is_not_null());
    }
    if let Some(kind) = filter.kind {
        query = query.filter(tenders::Column::Kind.eq(kind.as_str()));
    }
    if let Some(procedure) = filter.procedure {
        query = query.filter(tenders::Column::Procedure.eq(procedure.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(tenders::Column::Status.eq(status.as_str()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped: String = q
            .to_lowercase()
            .chars()
            .flat_map(|c| {
                if matches!(c, '%' | '_' | '\\') {
                    vec!['\\', c]
                } else {
                    vec![c]
                }
            })
            .collect();
        let pattern = format!("%{escaped}%");
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(tenders::Column::Title)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
        );
    }
    if let Some(cursor) = cursor {
        let (at, id) = decode_cursor(cursor)?;
        query = query.filter(
            Condition::any().add(order_col.lt(at)).add(
                Condition::all()
                    .add(order_col.eq(at))
                    .add(tenders::Column::Id.lt(id)),
            ),
        );
    }
    let rows = query
        .order_by_desc(order_col)
        .order_by_desc(tenders::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    let mut items = Vec::with_capacity(rows.len());
    for t in rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
    {
        let lot_rows = lots::Entity::find()
            .filter(lots::Column::TenderId.eq(t.id.clone()))
            .order_by_asc(lots::Column::Position)
            .all(db)
            .await?;
        items.push(Tender::from_rows(t, lot_rows)?);
    }
    let next_cursor = if more {
        items.last().map(encode_cursor)
    } else {
        None
    };
    Ok(TenderPage { items, next_cursor })
}

/// The holiday calendar as stored.
pub async fn load_calendar(db: &impl ConnectionTrait) -> DomainResult<HolidayCalendar> {
    let rows = calendar_days::Entity::find().all(db).await?;
    let holidays = rows.iter().filter(|r| r.kind == "holiday").map(|r| r.day);
    let workdays = rows.iter().filter(|r| r.kind == "workday").map(|r| r.day);
    Ok(HolidayCalendar::new(holidays, workdays))
}

/// A day of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarDay {
    pub day: NaiveDate,
    /// `holiday` or `workday` (a make-up working day).
    pub kind: String,
    pub name: String,
}

pub async fn calendar_days(db: &DatabaseConnection) -> DomainResult<Vec<CalendarDay>> {
    Ok(calendar_days::Entity::find()
        .order_by_asc(calendar_days::Column::Day)
        .all(db)
        .await?
        .into_iter()
        .map(|r| CalendarDay {
            day: r.day,
            kind: r.kind,
            name: r.name,
        })
        .collect())
}

/// Fills an empty calendar with China's 2026 arrangement, once.
pub async fn seed_calendar(db: &DatabaseConnection, now: DateTime<Utc>) -> DomainResult<()> {
    if calendar_days::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let (holidays, workdays) = china_2026();
    let txn = begin_write(db).await?;
    if calendar_days::Entity::find().count(&txn).await? > 0 {
        return Ok(());
    }
    for (days, kind, name) in [
        (holidays, "holiday", "法定节假日"),
        (workdays, "workday", "调休上班"),
    ] {
        for day in days {
            calendar_days::Entity::insert(calendar_days::ActiveModel {
                day: Set(day),
                kind: Set(kind.to_owned()),
                name: Set(name.to_owned()),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::system(),
            "calendar.seed",
            "calendar:2026",
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An operator marks a day as a holiday or a make-up working day (`kind`), or clears it (`None`).
pub async fn set_calendar_day(
    db: &DatabaseConnection,
    principal: &Principal,
    day: NaiveDate,
    entry: Option<(&str, &str)>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    principal.require_operator()?;
    let txn = begin_write(db).await?;
    calendar_days::Entity::delete_by_id(day).exec(&txn).await?;
    if let Some((kind, name)) = entry {
        if !matches!(kind, "holiday" | "workday") {
            return Err(invalid(
                "kind",
                "`kind` is `holiday` or `workday` (a make-up working day).",
                "`kind` 须为 `holiday`（节假日）或 `workday`（调休上班）。",
            ));
        }
        let name = parse_name("name", name, 100)?;
        calendar_days::Entity::insert(calendar_days::ActiveModel {
            day: Set(day),
            kind: Set(kind.to_owned()),
            name: Set(name),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &actor,
            "calendar.set",
            format!("calendar:{day}"),
        )
        .details(json!({"kind": entry.map(|e| e.0)})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
