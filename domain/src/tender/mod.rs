//! Tenders and lots (招标项目与标段): the draft a tenderer edits, and the rules that decide whether
//! it may be published. Pure: the store and the use cases sit beside it.

pub mod auction;
pub mod calendar;
pub mod evaluation;
pub mod input;
pub mod procedure;
pub mod region;
pub mod reserve;
pub mod service;
pub mod settle;
pub mod store;

use chrono::{DateTime, Duration, FixedOffset, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use self::calendar::HolidayCalendar;
use self::procedure::{
    AwardMethod, DepositCap, Kind, Period, Procedure, ProcedureRule, procedures_for,
};
use crate::error::{DomainError, ErrorCode, Text};
use crate::money::Money;

/// Tender status (docs/spec/api-contract.md "Tenders").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenderStatus {
    Draft,
    /// Published, before the bid deadline.
    Active,
    /// The bid deadline has passed.
    Closed,
    Awarded,
    Complete,
    Cancelled,
}

impl TenderStatus {
    pub const ALL: [Self; 6] = [
        Self::Draft,
        Self::Active,
        Self::Closed,
        Self::Awarded,
        Self::Complete,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Closed => "closed",
            Self::Awarded => "awarded",
            Self::Complete => "complete",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Lot status (docs/spec/api-contract.md "Tenders").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotStatus {
    Active,
    Opened,
    Failed,
    Evaluating,
    Awarded,
    Cancelled,
}

impl LotStatus {
    pub const ALL: [Self; 6] = [
        Self::Active,
        Self::Opened,
        Self::Failed,
        Self::Evaluating,
        Self::Awarded,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Opened => "opened",
            Self::Failed => "failed",
            Self::Evaluating => "evaluating",
            Self::Awarded => "awarded",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One lot (标段/包) of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotDraft {
    pub id: String,
    pub title: String,
    pub budget: Money,
    pub deposit: Money,
    /// 最高投标限价: may be set and is then published (实施条例 Art 27).
    pub price_ceiling: Option<Money>,
    /// An auction lot's terms (docs/auctions.md); the reserve only while the draft is parsed from
    /// what its owner sent, never from storage.
    pub auction: Option<auction::AuctionTerms>,
}

/// Everything a tenderer decides before publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenderDraft {
    pub title: String,
    pub kind: Kind,
    pub procedure: Procedure,
    pub award_method: AwardMethod,
    pub lots: Vec<LotDraft>,
    /// Printing and mailing cost only, may be zero (实施条例 Art 16).
    pub document_fee: Money,
    pub bid_deadline: DateTime<Utc>,
    pub bid_validity_days: u32,
    /// Extra `price.json` fields shown at the opening.
    pub opening_fields: Vec<String>,
    /// Sandbox only: every legal minimum duration divided by this (docs/spec/api-contract.md "Conventions").
    pub accelerator: u32,
    /// The evaluation set-up as sent; checked at publication (docs/spec/evaluation.md).
    pub evaluation: Option<input::SetupInput>,
    /// Where the work is (GB/T 2260), for the public hall's lists.
    pub region: Option<region::Region>,
}

pub const MAX_ACCELERATOR: u32 = 1_000_000;
pub const DEFAULT_BID_VALIDITY_DAYS: u32 = 90;

/// Shown times of the tenderer: China Standard Time (no daylight saving).
pub fn china_time() -> FixedOffset {
    use chrono::Offset;
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The earliest bid deadline a tender published at `published_at` may have. Calendar days run
/// from the publication instant; working days are counted on `calendar` in China Standard Time and
/// end at the same time of day. With an accelerator every period is first taken as calendar days
/// and then divided (docs/spec/api-contract.md "Conventions").
pub fn earliest_deadline(
    published_at: DateTime<Utc>,
    period: Period,
    accelerator: u32,
    calendar: &HolidayCalendar,
) -> DateTime<Utc> {
    let accelerator = accelerator.clamp(1, MAX_ACCELERATOR);
    if accelerator > 1 {
        let days = match period {
            Period::Days(n) | Period::WorkingDays(n) => i64::from(n),
        };
        let micros = days * 86_400 * 1_000_000 / i64::from(accelerator);
        return published_at + TimeDelta::microseconds(micros);
    }
    match period {
        Period::Days(n) => published_at + Duration::days(i64::from(n)),
        Period::WorkingDays(n) => {
            let local = published_at.with_timezone(&china_time());
            let date = calendar.add_working_days(local.date_naive(), n);
            let end = date.and_time(local.time());
            end.and_local_timezone(china_time())
                .single()
                .map_or(published_at + Duration::days(i64::from(n)), |t| {
                    t.with_timezone(&Utc)
                })
        }
    }
}

/// A clarification or amendment that may affect bids is issued at least this many days before the
/// bid deadline, or the deadline moves out to meet it (招标投标法 Art 23; 实施条例 Art 21; 87号令
/// Art 27).
pub const AMENDMENT_NOTICE_DAYS: i64 = 15;

/// Objections to the tender documents, and with them questions, come at least this many days
/// before the bid deadline (实施条例 Art 22).
pub const QUESTION_CUTOFF_DAYS: i64 = 10;

/// `days` calendar days, divided by a sandbox accelerator.
pub fn scaled_days(days: i64, accelerator: u32) -> TimeDelta {
    let accelerator = i64::from(accelerator.clamp(1, MAX_ACCELERATOR));
    TimeDelta::microseconds(days * 86_400 * 1_000_000 / accelerator)
}

/// When questions about the documents close: 10 days (÷ accelerator) before the bid deadline, or
/// at the deadline itself for a procedure whose whole period is shorter than that (a negotiation
/// or inquiry of a few working days), so that bidders may always ask.
pub fn question_cutoff(
    published_at: DateTime<Utc>,
    bid_deadline: DateTime<Utc>,
    accelerator: u32,
) -> DateTime<Utc> {
    let cutoff = bid_deadline - scaled_days(QUESTION_CUTOFF_DAYS, accelerator);
    if cutoff > published_at {
        cutoff
    } else {
        bid_deadline
    }
}

/// The bid deadline after a clarification or amendment issued at `now`: when it may affect bids,
/// at least 15 days (÷ accelerator) later than `now` (实施条例 Art 21); never earlier than it was.
pub fn deadline_after_amendment(
    now: DateTime<Utc>,
    bid_deadline: DateTime<Utc>,
    affects_bids: bool,
    accelerator: u32,
) -> DateTime<Utc> {
    if affects_bids {
        bid_deadline.max(now + scaled_days(AMENDMENT_NOTICE_DAYS, accelerator))
    } else {
        bid_deadline
    }
}

/// The most the deposit of a lot with `budget` may be under `cap`; `None` when the seller sets it.
pub fn deposit_limit(cap: DepositCap, budget: Money) -> Option<Decimal> {
    match cap {
        DepositCap::SetBySeller => None,
        DepositCap::PercentOfBudget { percent } => {
            Some(budget.amount() * percent / Decimal::from(100))
        }
        DepositCap::PercentOfBudgetAndAmount {
            percent,
            amount_yuan,
        } => Some((budget.amount() * percent / Decimal::from(100)).min(amount_yuan)),
    }
}

/// A refusal at publication: a stable code, the field, and a sentence naming the rule.
fn refusal(code: ErrorCode, field: impl Into<String>, en: String, zh: String) -> DomainError {
    DomainError::Invalid {
        code,
        field: Some(field.into()),
        message: Text::new(en, zh),
    }
}

/// Checks a draft against the law for its kind before it is published at `now`
/// (docs/spec/rules.md "Procedure table", "Periods and deadlines", "Money"); answers its checked
/// evaluation set-up (docs/spec/evaluation.md), `None` for a tender experts do not evaluate.
pub fn check_publication(
    draft: &TenderDraft,
    rule: Option<&ProcedureRule>,
    calendar: &HolidayCalendar,
    now: DateTime<Utc>,
) -> Result<Option<tenderhall_model::evaluation::setup::Setup>, DomainError> {
    let Some(rule) = rule else {
        let fitting: Vec<&str> = procedures_for(draft.kind)
            .into_iter()
            .map(Procedure::as_str)
            .collect();
        return Err(refusal(
            ErrorCode::ProcedureMismatch,
            "procedure",
            format!(
                "A {} tender cannot use the procedure `{}` (docs/spec/rules.md procedure table); it may use: {}.",
                draft.kind,
                draft.procedure,
                fitting.join(", ")
            ),
            format!(
                "{} 类项目不能采用 `{}` 方式（交易规则：采购方式表）；可用：{}。",
                draft.kind,
                draft.procedure,
                fitting.join("、")
            ),
        ));
    };
    if !rule.award_methods.contains(&draft.award_method) {
        let fitting: Vec<&str> = rule.award_methods.iter().map(|m| m.as_str()).collect();
        return Err(refusal(
            ErrorCode::ProcedureMismatch,
            "award_method",
            format!(
                "A {} {} cannot be awarded by `{}` (docs/spec/rules.md procedure table); it may use: {}.",
                draft.kind,
                draft.procedure,
                draft.award_method,
                fitting.join(", ")
            ),
            format!(
                "{} 类 {} 项目不能采用 `{}` 评标方法（交易规则：采购方式表）；可用：{}。",
                draft.kind,
                draft.procedure,
                draft.award_method,
                fitting.join("、")
            ),
        ));
    }
    if draft.bid_deadline <= now {
        return Err(refusal(
            ErrorCode::PeriodTooShort,
            "bid_deadline",
            "The bid deadline has already passed; set a later one.".to_owned(),
            "投标截止时间已过，请设置更晚的时间。".to_owned(),
        ));
    }
    let earliest = earliest_deadline(now, rule.min_period, draft.accelerator, calendar);
    if draft.bid_deadline < earliest {
        let shown = earliest
            .with_timezone(&china_time())
            .format("%Y-%m-%d %H:%M:%S %:z");
        let accelerated = if draft.accelerator > 1 {
            format!(" ÷ accelerator {}", draft.accelerator)
        } else {
            String::new()
        };
        return Err(refusal(
            ErrorCode::PeriodTooShort,
            "bid_deadline",
            format!(
                "From publication to the bid deadline must be at least {}{accelerated} ({}): published now, the deadline may be no earlier than {shown}.",
                rule.min_period, rule.period_source
            ),
            format!(
                "自招标文件发出之日至投标截止不得少于 {}{accelerated}（{}）：现在发布，截止时间不得早于 {shown}。",
                rule.min_period.zh(),
                rule.period_source
            ),
        ));
    }
    auction::check_listing_periods(draft, calendar)?;
    for (i, lot) in draft.lots.iter().enumerate() {
        if let Some(limit) = deposit_limit(rule.deposit_cap, lot.budget)
            && lot.deposit.amount() > limit
        {
            let limit = limit.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
            let (en_rule, zh_rule) = match rule.deposit_cap {
                DepositCap::PercentOfBudgetAndAmount {
                    percent,
                    amount_yuan,
                } => (
                    format!("{percent} % of the lot budget and at most {amount_yuan} CNY"),
                    format!("不得超过标段预算的 {percent}%，且不超过 {amount_yuan} 元"),
                ),
                DepositCap::PercentOfBudget { percent } => (
                    format!("{percent} % of the lot budget"),
                    format!("不得超过标段预算的 {percent}%"),
                ),
                DepositCap::SetBySeller => (String::new(), String::new()),
            };
            return Err(refusal(
                ErrorCode::DepositTooHigh,
                format!("lots[{i}].deposit"),
                format!(
                    "The deposit of lot `{}` ({}) exceeds {en_rule}: at most {limit} ({}).",
                    lot.id,
                    lot.deposit.amount(),
                    rule.deposit_source
                ),
                format!(
                    "标段 `{}` 的投标保证金（{}）{zh_rule}：最多 {limit} 元（{}）。",
                    lot.id,
                    lot.deposit.amount(),
                    rule.deposit_source
                ),
            ));
        }
    }
    evaluation::check_setup(
        draft.evaluation.as_ref(),
        draft.kind,
        draft.award_method,
        &draft.opening_fields,
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::money::Currency;
    use crate::tender::procedure::{ProcedureSettings, rule_for};

    fn cny(s: &str) -> Money {
        Money::parse(s, Currency::Cny).unwrap_or(Money::zero(Currency::Cny))
    }

    fn now() -> DateTime<Utc> {
        // Monday 2 November 2026, 10:00 in Beijing.
        Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn draft(kind: Kind, procedure: Procedure, days: i64) -> TenderDraft {
        TenderDraft {
            title: "道路改造工程".into(),
            kind,
            procedure,
            award_method: AwardMethod::LowestEvaluatedPrice,
            lots: vec![LotDraft {
                id: "1".into(),
                title: "一标段".into(),
                budget: cny("10000000"),
                deposit: cny("200000"),
                price_ceiling: None,
                auction: None,
            }],
            document_fee: cny("0"),
            bid_deadline: now() + Duration::days(days),
            bid_validity_days: 90,
            opening_fields: vec![],
            accelerator: 1,
            evaluation: None,
            region: None,
        }
    }

    fn check(d: &TenderDraft) -> Result<(), DomainError> {
        check_publication(
            d,
            ProcedureSettings::default()
                .rule(d.kind, d.procedure)
                .as_ref(),
            &HolidayCalendar::default(),
            now(),
        )
        .map(|_| ())
    }

    fn code(r: Result<(), DomainError>) -> Option<&'static str> {
        match r {
            Err(DomainError::Invalid { code, .. }) => Some(code.as_str()),
            _ => None,
        }
    }

    #[test]
    fn art_24_a_construction_tender_with_20_days_publishes() {
        assert!(check(&draft(Kind::Construction, Procedure::OpenTender, 20)).is_ok());
    }

    #[test]
    fn art_24_nineteen_days_is_period_too_short_naming_the_article() {
        let err = check(&draft(Kind::Construction, Procedure::OpenTender, 19));
        match err {
            Err(DomainError::Invalid { code, message, .. }) => {
                assert_eq!(code.as_str(), "period_too_short");
                assert!(
                    message.en.contains("20 days") && message.en.contains("招标投标法 Art 24"),
                    "{}",
                    message.en
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn gp_art_35_goods_need_20_days_too() {
        assert_eq!(
            code(check(&draft(Kind::Goods, Procedure::OpenTender, 10))),
            Some("period_too_short")
        );
    }

    #[test]
    fn art_26_a_construction_deposit_above_800000_is_refused_even_under_2_percent() {
        let mut d = draft(Kind::Construction, Procedure::OpenTender, 30);
        d.lots[0].budget = cny("100000000");
        d.lots[0].deposit = cny("800000.01");
        assert_eq!(code(check(&d)), Some("deposit_too_high"));
        d.lots[0].deposit = cny("800000");
        assert!(check(&d).is_ok());
    }

    #[test]
    fn art_26_a_deposit_above_2_percent_of_the_budget_is_refused() {
        let mut d = draft(Kind::Goods, Procedure::OpenTender, 30);
        d.lots[0].deposit = cny("200000.01");
        let err = check(&d);
        assert_eq!(code(err), Some("deposit_too_high"));
        d.lots[0].deposit = cny("200000.00");
        assert!(check(&d).is_ok());
    }

    #[test]
    fn a_seller_sets_any_deposit_for_rights_sales() {
        let mut d = draft(Kind::LandUse, Procedure::Auction, 20);
        d.award_method = AwardMethod::HighestPrice;
        d.lots[0].deposit = cny("5000000");
        assert!(check(&d).is_ok());
    }

    #[test]
    fn a_procedure_that_does_not_fit_the_kind_is_procedure_mismatch() {
        assert_eq!(
            code(check(&draft(Kind::Construction, Procedure::Auction, 30))),
            Some("procedure_mismatch")
        );
        let mut d = draft(Kind::Construction, Procedure::OpenTender, 30);
        d.award_method = AwardMethod::HighestPrice;
        assert_eq!(code(check(&d)), Some("procedure_mismatch"));
    }

    #[test]
    fn working_day_periods_count_on_the_calendar_in_china_time() {
        let (h, m) = calendar::china_2026();
        let cal = HolidayCalendar::new(h, m);
        // Tuesday 29 September 2026, 15:00 Beijing: 3 working days end Friday 9 October 15:00.
        let published = Utc
            .with_ymd_and_hms(2026, 9, 29, 7, 0, 0)
            .single()
            .unwrap_or_default();
        let earliest = earliest_deadline(published, Period::WorkingDays(3), 1, &cal);
        assert_eq!(
            earliest,
            Utc.with_ymd_and_hms(2026, 10, 9, 7, 0, 0)
                .single()
                .unwrap_or_default()
        );
    }

    #[test]
    fn an_accelerator_of_86400_runs_20_days_in_20_seconds() {
        let earliest =
            earliest_deadline(now(), Period::Days(20), 86_400, &HolidayCalendar::default());
        assert_eq!(earliest - now(), TimeDelta::seconds(20));
        // Working days count as calendar days first.
        let earliest = earliest_deadline(
            now(),
            Period::WorkingDays(3),
            86_400,
            &HolidayCalendar::default(),
        );
        assert_eq!(earliest - now(), TimeDelta::seconds(3));
    }

    #[test]
    fn a_deadline_already_past_is_refused() {
        assert_eq!(
            code(check(&draft(Kind::Construction, Procedure::OpenTender, -1))),
            Some("period_too_short")
        );
    }

    #[test]
    fn every_table_row_has_its_sources() {
        for rule in procedure::PROCEDURE_TABLE {
            assert!(!rule.period_source.is_empty() && !rule.deposit_source.is_empty());
        }
        assert!(rule_for(Kind::Vaccines, Procedure::ReverseAuction).is_some());
    }

    #[test]
    fn art_21_an_amendment_that_affects_bids_keeps_15_days_before_the_deadline() {
        let now = Utc::now();
        let deadline = now + TimeDelta::days(20);
        // Far enough ahead: the deadline stays.
        assert_eq!(deadline_after_amendment(now, deadline, true, 1), deadline);
        // Ten days before the deadline: it moves out to fifteen days from now.
        let late = deadline - TimeDelta::days(10);
        assert_eq!(
            deadline_after_amendment(late, deadline, true, 1),
            late + TimeDelta::days(15)
        );
        // One that does not affect bids moves nothing.
        assert_eq!(deadline_after_amendment(late, deadline, false, 1), deadline);
        // Accelerated: 15 days ÷ 86,400 is 15 seconds.
        let fast_deadline = now + TimeDelta::seconds(5);
        assert_eq!(
            deadline_after_amendment(now, fast_deadline, true, 86_400),
            now + TimeDelta::seconds(15)
        );
    }

    #[test]
    fn art_22_questions_close_ten_days_before_the_deadline() {
        let published = Utc::now();
        let deadline = published + TimeDelta::days(20);
        assert_eq!(
            question_cutoff(published, deadline, 1),
            deadline - TimeDelta::days(10)
        );
        // A three-working-day inquiry: questions run to the deadline.
        let short = published + TimeDelta::days(4);
        assert_eq!(question_cutoff(published, short, 1), short);
        assert_eq!(
            question_cutoff(published, published + TimeDelta::seconds(20), 86_400),
            published + TimeDelta::seconds(10)
        );
    }
}
