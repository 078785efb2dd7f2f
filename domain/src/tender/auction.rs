//! A lot's auction terms as the seller sends them (docs/auctions.md, docs/spec/api-contract.md "Auctions"), parsed
//! and checked against the lot's procedure. Pure: the reserve is parsed here and sealed by the
//! service that stores it.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tenderhall_model::auction::{Form, Terms, valid_increment};

use super::input::invalid;
use super::procedure::{Kind, Period, Procedure};
use crate::error::{DomainResult, ErrorCode};
use crate::money::{Currency, Money, MoneyInput};

/// The countdown each bid restarts when the seller names none: five minutes, the provincial
/// rule of docs/spec/rules.md "Auctions" *(local)*.
pub const DEFAULT_COUNTDOWN_SECONDS: u32 = 300;
/// The countdown's bounds: long enough for a bidder on a slow line to answer, short enough that
/// an auction ends the same day.
pub const COUNTDOWN_SECONDS: std::ops::RangeInclusive<u32> = 10..=3600;

/// What the seller sends for a lot's auction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuctionInput {
    pub form: String,
    pub start_price: MoneyInput,
    /// An amount, or for `reverse` a percentage of the current price (`"0.5"` = 0.5 %).
    pub increment: String,
    #[serde(default)]
    pub reserve_price: Option<MoneyInput>,
    #[serde(default)]
    pub countdown_seconds: Option<u32>,
    #[serde(default)]
    pub listing_end: Option<DateTime<Utc>>,
}

/// A lot's auction terms, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionTerms {
    pub form: Form,
    pub start_price: Money,
    pub increment: Decimal,
    /// Sealed when stored; never shown before the close.
    pub reserve: Option<Money>,
    pub countdown_seconds: u32,
    pub listing_end: Option<DateTime<Utc>>,
}

impl AuctionTerms {
    /// The terms the decisions of `tenderhall_model::auction` run on; bidding opens at the
    /// tender's bid deadline.
    pub fn model(&self, opens_at: DateTime<Utc>) -> Terms {
        Terms {
            form: self.form,
            start_price: self.start_price.amount(),
            opens_at,
            countdown: Duration::seconds(i64::from(self.countdown_seconds)),
            listing_end: self.listing_end,
        }
    }
}

/// A lot's auction terms as everyone sees them, and as stored in `lots.auction`: everything but
/// the reserve, of which only its existence is public (an announcement says whether there is one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicTerms {
    #[serde(with = "form_name")]
    pub form: Form,
    pub start_price: Decimal,
    /// The step bidders started with; the live step of a listing is the auction's own.
    pub increment: Decimal,
    pub countdown_seconds: u32,
    #[serde(default)]
    pub listing_end: Option<DateTime<Utc>>,
    pub reserve_set: bool,
}

/// A form as its name in JSON.
mod form_name {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use tenderhall_model::auction::Form;

    pub fn serialize<S: Serializer>(form: &Form, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(form.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Form, D::Error> {
        let name = String::deserialize(d)?;
        Form::parse(&name).ok_or_else(|| D::Error::custom(format!("unknown auction form `{name}`")))
    }
}

impl PublicTerms {
    pub fn model(&self, opens_at: DateTime<Utc>) -> Terms {
        Terms {
            form: self.form,
            start_price: self.start_price,
            opens_at,
            countdown: Duration::seconds(i64::from(self.countdown_seconds)),
            listing_end: self.listing_end,
        }
    }

    /// The input that gives these terms back, without the reserve (which the caller re-sends or
    /// keeps sealed).
    pub fn to_input(&self, currency: Currency) -> AuctionInput {
        AuctionInput {
            form: self.form.as_str().to_owned(),
            start_price: MoneyInput::Object(crate::money::MoneyDto {
                amount: self.start_price.to_string(),
                currency: currency.code().to_owned(),
            }),
            increment: self.increment.to_string(),
            reserve_price: None,
            countdown_seconds: Some(self.countdown_seconds),
            listing_end: self.listing_end,
        }
    }
}

impl AuctionTerms {
    pub fn public(&self) -> PublicTerms {
        PublicTerms {
            form: self.form,
            start_price: self.start_price.amount(),
            increment: self.increment,
            countdown_seconds: self.countdown_seconds,
            listing_end: self.listing_end,
            reserve_set: self.reserve.is_some(),
        }
    }
}

/// The land listing's minimum (国土资源部令第39号: a listing lasts at least 10 days; docs/spec/rules.md
/// marks days or working days unverified, so calendar days). Property listings have only their
/// announcement period, which the procedure table checks.
pub fn min_listing(kind: Kind) -> Option<Period> {
    matches!(kind, Kind::LandUse | Kind::MiningRights).then_some(Period::Days(10))
}

/// The forms a procedure's lots may use: a `listing` lists (挂牌), an `auction` (拍卖) is english
/// or dutch, a `reverse_auction` is reverse; other procedures have no auction.
pub fn forms_for(procedure: Procedure) -> &'static [Form] {
    match procedure {
        Procedure::Listing => &[Form::Listing],
        Procedure::Auction => &[Form::English, Form::Dutch],
        Procedure::ReverseAuction => &[Form::Reverse],
        _ => &[],
    }
}

/// Parses and checks the auction terms of the lot at `field` (such as `lots[0].auction`): present
/// exactly when the procedure auctions, in a form that fits it, with a positive start price, a
/// valid step, a countdown in bounds, and for a listing its end after the bid deadline.
pub fn parse_terms(
    field: &str,
    procedure: Procedure,
    input: Option<&AuctionInput>,
    bid_deadline: DateTime<Utc>,
) -> DomainResult<Option<AuctionTerms>> {
    let forms = forms_for(procedure);
    let Some(input) = input else {
        if forms.is_empty() {
            return Ok(None);
        }
        return Err(invalid(
            field,
            format!(
                "A lot of a `{}` procedure carries its auction terms in `auction`.",
                procedure.as_str()
            ),
            format!(
                "`{}` 方式的标段须在 `auction` 中载明竞价规则。",
                procedure.as_str()
            ),
        ));
    };
    let at = |name: &str| format!("{field}.{name}");
    let form = Form::parse(&input.form)
        .filter(|f| forms.contains(f))
        .ok_or_else(|| {
            let names: Vec<&str> = forms.iter().map(|f| f.as_str()).collect();
            if names.is_empty() {
                invalid(
                    field,
                    format!(
                        "A `{}` procedure has no auction; leave out `auction`.",
                        procedure.as_str()
                    ),
                    format!(
                        "`{}` 方式不采用竞价，请去掉 `auction`。",
                        procedure.as_str()
                    ),
                )
            } else {
                invalid(
                    at("form"),
                    format!(
                        "A `{}` procedure auctions in the form {}.",
                        procedure.as_str(),
                        names.join(" or ")
                    ),
                    format!(
                        "`{}` 方式的竞价形式须为 {}。",
                        procedure.as_str(),
                        names.join(" 或 ")
                    ),
                )
            }
        })?;
    let start_price = input.start_price.parse().map_err(|e| {
        invalid(
            at("start_price"),
            format!("{e}"),
            format!("起始价无效：{e}"),
        )
    })?;
    if !start_price.is_positive() {
        return Err(invalid(
            at("start_price"),
            "The start price must be above zero.",
            "起始价须大于零。",
        ));
    }
    let increment = input
        .increment
        .trim()
        .parse::<Decimal>()
        .ok()
        .filter(|i| valid_increment(form, *i))
        .ok_or_else(|| {
            if form == Form::Reverse {
                invalid(
                    at("increment"),
                    "A reverse auction's step is a percentage above 0 and under 100, with at most two decimals (\"0.5\" is 0.5 %).",
                    "反向竞价的降价幅度为大于 0、小于 100 的百分数，最多两位小数（\"0.5\" 即 0.5%）。",
                )
            } else {
                invalid(
                    at("increment"),
                    "The increment is an amount above zero in fen (at most two decimals).",
                    "加价幅度须为大于零的金额，最多两位小数。",
                )
            }
        })?;
    let reserve = input
        .reserve_price
        .as_ref()
        .map(|r| {
            r.parse().map_err(|e| {
                invalid(
                    at("reserve_price"),
                    format!("{e}"),
                    format!("保留价无效：{e}"),
                )
            })
        })
        .transpose()?;
    if reserve.is_some_and(|r| !r.is_positive()) {
        return Err(invalid(
            at("reserve_price"),
            "A reserve price must be above zero.",
            "保留价须大于零。",
        ));
    }
    let countdown_seconds = input.countdown_seconds.unwrap_or(DEFAULT_COUNTDOWN_SECONDS);
    if !COUNTDOWN_SECONDS.contains(&countdown_seconds) {
        return Err(invalid(
            at("countdown_seconds"),
            "The countdown is 10 to 3,600 seconds.",
            "倒计时须为 10 至 3600 秒。",
        ));
    }
    let listing_end = match (form, input.listing_end) {
        (Form::Listing, Some(end)) if end > bid_deadline => Some(end),
        (Form::Listing, _) => {
            return Err(invalid(
                at("listing_end"),
                "A listing names when it closes in `listing_end`, after the bid deadline (when the listing opens).",
                "挂牌须在 `listing_end` 中载明挂牌截止时间，且晚于挂牌起始时间（投标截止时间）。",
            ));
        }
        (_, Some(_)) => {
            return Err(invalid(
                at("listing_end"),
                "Only a listing has a `listing_end`.",
                "只有挂牌方式才有 `listing_end`。",
            ));
        }
        (_, None) => None,
    };
    Ok(Some(AuctionTerms {
        form,
        start_price,
        increment,
        reserve,
        countdown_seconds,
        listing_end,
    }))
}

/// A land or mining-rights listing stays open its legal minimum after it opens at the bid
/// deadline (docs/spec/rules.md "Time limits", land listing).
pub(crate) fn check_listing_periods(
    draft: &super::TenderDraft,
    calendar: &super::calendar::HolidayCalendar,
) -> DomainResult<()> {
    let Some(period) = min_listing(draft.kind) else {
        return Ok(());
    };
    for (i, lot) in draft.lots.iter().enumerate() {
        let Some(end) = lot.auction.as_ref().and_then(|a| a.listing_end) else {
            continue;
        };
        let earliest =
            super::earliest_deadline(draft.bid_deadline, period, draft.accelerator, calendar);
        if end < earliest {
            let shown = earliest
                .with_timezone(&super::china_time())
                .format("%Y-%m-%d %H:%M:%S %:z");
            return Err(super::refusal(
                ErrorCode::PeriodTooShort,
                format!("lots[{i}].auction.listing_end"),
                format!(
                    "A {} listing lasts at least {period} from its opening at the bid deadline (国土资源部令第39号): it may close no earlier than {shown}.",
                    draft.kind
                ),
                format!(
                    "{} 挂牌期限自挂牌起始（投标截止时间）起不得少于 {}（国土资源部令第39号）：挂牌截止不得早于 {shown}。",
                    draft.kind,
                    period.zh()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DomainError;
    use chrono::TimeZone;

    fn deadline() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 2, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn input(form: &str) -> AuctionInput {
        AuctionInput {
            form: form.into(),
            start_price: MoneyInput::Text("1000000".into()),
            increment: "10000".into(),
            reserve_price: Some(MoneyInput::Text("1200000".into())),
            countdown_seconds: None,
            listing_end: (form == "listing").then(|| deadline() + Duration::days(10)),
        }
    }

    fn field_of(result: DomainResult<Option<AuctionTerms>>) -> Option<String> {
        match result {
            Err(DomainError::Invalid { field, .. }) => field,
            _ => None,
        }
    }

    #[test]
    fn each_auction_procedure_takes_its_own_forms_and_others_take_none() {
        let ok = |p, f: &str| parse_terms("a", p, Some(&input(f)), deadline()).is_ok();
        assert!(ok(Procedure::Listing, "listing"));
        assert!(ok(Procedure::Auction, "english"));
        assert!(ok(Procedure::Auction, "dutch"));
        let mut reverse = input("reverse");
        reverse.increment = "0.5".into();
        assert!(parse_terms("a", Procedure::ReverseAuction, Some(&reverse), deadline()).is_ok());
        assert!(!ok(Procedure::ReverseAuction, "english"));
        assert!(!ok(Procedure::Listing, "english"));
        assert!(!ok(Procedure::Auction, "listing"));
        assert!(!ok(Procedure::OpenTender, "english"));
        assert_eq!(
            parse_terms("a", Procedure::OpenTender, None, deadline()).ok(),
            Some(None)
        );
        assert_eq!(
            field_of(parse_terms(
                "lots[0].auction",
                Procedure::Auction,
                None,
                deadline()
            )),
            Some("lots[0].auction".into())
        );
    }

    #[test]
    fn the_countdown_defaults_to_five_minutes_and_the_listing_closes_after_it_opens() {
        let terms = parse_terms("a", Procedure::Listing, Some(&input("listing")), deadline());
        let terms = terms.ok().flatten();
        assert_eq!(terms.as_ref().map(|t| t.countdown_seconds), Some(300));
        assert_eq!(
            terms.map(|t| t.model(deadline()).listing_end),
            Some(Some(deadline() + Duration::days(10)))
        );
        let mut early = input("listing");
        early.listing_end = Some(deadline());
        assert_eq!(
            field_of(parse_terms(
                "a",
                Procedure::Listing,
                Some(&early),
                deadline()
            )),
            Some("a.listing_end".into())
        );
        let mut stray = input("english");
        stray.listing_end = Some(deadline() + Duration::days(1));
        assert_eq!(
            field_of(parse_terms(
                "a",
                Procedure::Auction,
                Some(&stray),
                deadline()
            )),
            Some("a.listing_end".into())
        );
        let mut fast = input("english");
        fast.countdown_seconds = Some(5);
        assert_eq!(
            field_of(parse_terms(
                "a",
                Procedure::Auction,
                Some(&fast),
                deadline()
            )),
            Some("a.countdown_seconds".into())
        );
    }

    #[test]
    fn prices_and_steps_are_checked_a_reverse_step_is_a_percentage() {
        let refused = |p, i: &AuctionInput| field_of(parse_terms("a", p, Some(i), deadline()));
        let mut zero = input("english");
        zero.start_price = MoneyInput::Text("0".into());
        assert_eq!(
            refused(Procedure::Auction, &zero),
            Some("a.start_price".into())
        );
        let mut step = input("english");
        step.increment = "0.001".into();
        assert_eq!(
            refused(Procedure::Auction, &step),
            Some("a.increment".into())
        );
        let mut reverse = input("reverse");
        reverse.increment = "100".into();
        assert_eq!(
            refused(Procedure::ReverseAuction, &reverse),
            Some("a.increment".into())
        );
        reverse.increment = "0.5".into();
        assert_eq!(refused(Procedure::ReverseAuction, &reverse), None);
        let mut reserve = input("english");
        reserve.reserve_price = Some(MoneyInput::Text("-1".into()));
        assert_eq!(
            refused(Procedure::Auction, &reserve),
            Some("a.reserve_price".into())
        );
    }
}
