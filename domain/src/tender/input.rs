//! What a tenderer sends for a tender, and its parsing into a [`TenderDraft`]. Pure.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::procedure::{AwardMethod, Kind, Procedure};
use super::{DEFAULT_BID_VALIDITY_DAYS, LotDraft, MAX_ACCELERATOR, TenderDraft};
use crate::account::parse_name;
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::is_valid_id;
use crate::money::{Currency, Money, MoneyInput};
pub use tenderhall_model::evaluation::setup::SetupInput;

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
    /// The auction terms of a `listing`, `auction` or `reverse_auction` lot (docs/auctions.md).
    #[serde(default)]
    pub auction: Option<super::auction::AuctionInput>,
}

/// A tender as the tenderer sends it (docs/spec/api-contract.md "Tenders").
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
    /// The evaluation set-up (docs/spec/evaluation.md), published with the tender.
    #[serde(default)]
    pub evaluation: Option<SetupInput>,
    /// Where the work is: a GB/T 2260 division code such as `330100`.
    #[serde(default)]
    pub region: Option<String>,
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
    pub evaluation: Option<SetupInput>,
    pub region: Option<String>,
}

pub(crate) fn invalid(
    field: impl Into<String>,
    en: impl Into<String>,
    zh: impl Into<String>,
) -> DomainError {
    DomainError::Invalid {
        code: ErrorCode::Invalid,
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
        let auction = super::auction::parse_terms(
            &field("auction"),
            procedure,
            lot.auction.as_ref(),
            input.bid_deadline,
        )?;
        lots.push(LotDraft {
            id: lot.id.clone(),
            title: parse_name(&field("title"), &lot.title, 200)?,
            budget,
            deposit,
            price_ceiling,
            auction,
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
    let region = input
        .region
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            super::region::Region::parse(r).map_err(|e| {
                invalid(
                    "region",
                    format!("The region is not valid: {e}."),
                    format!(
                        "地区无效：应为六位行政区划代码（如 330100），而不是 `{}`。",
                        r.trim()
                    ),
                )
            })
        })
        .transpose()?;
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
        evaluation: input.evaluation.clone(),
        region,
    })
}
