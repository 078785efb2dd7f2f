//! The evaluation set-up a tender publishes (docs/spec/evaluation.md "The set-up"): the method, the
//! pass/fail compliance checks, for comprehensive scoring the tree of criteria with their weights,
//! and the price formula with its parameters. Published with the tender so that nobody changes the
//! rules after seeing the bids; checked here, before publication, against the rules of 87号令
//! Art 55 and 57 (docs/spec/rules.md "Experts and evaluation").

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::k::KRange;
use super::price::{MeanBase, PriceMethod, PriceRule};
use crate::error::{ErrorCode, Text};

mod criteria;
#[cfg(test)]
mod tests;

use criteria::{Checker, formula};

/// The set-up as the tenderer sends it and as it is published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupInput {
    /// `lowest_evaluated_price` or `comprehensive_scoring`: the tender's award method.
    pub method: String,
    #[serde(default)]
    pub compliance: Vec<CheckInput>,
    /// Comprehensive scoring only: the top-level criteria, weights summing to 100.
    #[serde(default)]
    pub criteria: Vec<CriterionInput>,
    pub price: PriceInput,
}

/// A pass/fail compliance check (符合性审查 / 资格性审查).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInput {
    pub id: String,
    pub title: String,
}

/// A criterion of the scoring tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionInput {
    pub id: String,
    pub title: String,
    /// The most points the criterion gives; a group's children sum to it.
    pub weight: Decimal,
    /// `price`, `objective`, `subjective` or `group`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `objective`: the price-form field the score is computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// `objective`: `lower` or `higher` is better.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub better: Option<String>,
    /// `subjective`: the range each expert scores within.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<RangeInput>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<CriterionInput>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeInput {
    pub min: Decimal,
    pub max: Decimal,
}

/// The price formula.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    /// `gp_lowest_base` or `mean_base`.
    pub method: String,
    /// Percent deducted from an SME bid's price before it is evaluated.
    #[serde(default)]
    pub sme_deduction: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_base: Option<MeanBaseInput>,
}

/// The mean-base family's parameters; K is drawn at the opening from `k_min..=k_max` in steps of
/// `k_step` (docs/spec/evaluation.md "K").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanBaseInput {
    #[serde(default)]
    pub drop_highest: usize,
    #[serde(default)]
    pub drop_lowest: usize,
    #[serde(default)]
    pub k_min: Decimal,
    #[serde(default)]
    pub k_max: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_step: Option<Decimal>,
    pub e_above: Decimal,
    pub e_below: Decimal,
}

/// What is procured, as far as the set-up's rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purchase {
    /// 政府采购货物: price weight ≥ 30 (87号令 Art 55).
    GpGoods,
    /// 政府采购服务: price weight ≥ 10 (87号令 Art 55).
    GpServices,
    /// 工程建设 under the tendering law: the mean-base family is allowed *(local)*.
    Works,
    /// Anything else evaluated by experts.
    Other,
}

impl Purchase {
    fn is_gp(self) -> bool {
        matches!(self, Self::GpGoods | Self::GpServices)
    }

    /// The least price weight the law allows, in points of 100.
    pub fn min_price_weight(self) -> Decimal {
        match self {
            Self::GpGoods => Decimal::from(30),
            Self::GpServices => Decimal::from(10),
            Self::Works | Self::Other => Decimal::ZERO,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    LowestEvaluatedPrice,
    ComprehensiveScoring,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LowestEvaluatedPrice => "lowest_evaluated_price",
            Self::ComprehensiveScoring => "comprehensive_scoring",
        }
    }
}

/// Which way an objective criterion's field is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// What a leaf criterion scores, or a group's children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The price score of the price formula, out of the criterion's weight.
    Price,
    /// Computed from a price-form field: the best value gets the weight, the others in proportion.
    Objective {
        field: String,
        better: Better,
    },
    /// Scored by each expert within `min..=max`.
    Subjective {
        min: Decimal,
        max: Decimal,
    },
    Group(Vec<Criterion>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub id: String,
    pub title: String,
    pub weight: Decimal,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub id: String,
    pub title: String,
}

/// The price formula, K still to be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formula {
    GpLowestBase,
    MeanBase {
        drop_highest: usize,
        drop_lowest: usize,
        k: KRange,
        e_above: Decimal,
        e_below: Decimal,
    },
}

/// A checked set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    pub method: Method,
    pub compliance: Vec<Check>,
    pub criteria: Vec<Criterion>,
    pub formula: Formula,
    pub sme_deduction: Decimal,
}

impl Setup {
    /// The points the price criterion gives (100 for the lowest evaluated price method, which
    /// ranks by price alone).
    pub fn price_weight(&self) -> Decimal {
        fn find(criteria: &[Criterion]) -> Option<Decimal> {
            criteria.iter().find_map(|c| match &c.rule {
                Rule::Price => Some(c.weight),
                Rule::Group(children) => find(children),
                _ => None,
            })
        }
        match self.method {
            Method::LowestEvaluatedPrice => Decimal::ONE_HUNDRED,
            Method::ComprehensiveScoring => find(&self.criteria).unwrap_or_default(),
        }
    }

    /// The range K is drawn from at the opening, when the formula has one.
    pub fn k_range(&self) -> Option<KRange> {
        match self.formula {
            Formula::MeanBase { k, .. } if k.max > Decimal::ZERO => Some(k),
            _ => None,
        }
    }

    /// The price rule once K is known (zero when the formula has none).
    pub fn price_rule(&self, k: Decimal) -> PriceRule {
        let method = match self.formula {
            Formula::GpLowestBase => PriceMethod::GpLowestBase,
            Formula::MeanBase {
                drop_highest,
                drop_lowest,
                e_above,
                e_below,
                ..
            } => PriceMethod::MeanBase(MeanBase {
                drop_highest,
                drop_lowest,
                k,
                e_above,
                e_below,
            }),
        };
        PriceRule {
            method,
            weight: self.price_weight(),
            sme_deduction: self.sme_deduction,
        }
    }

    /// Every leaf criterion, depth first, in published order.
    pub fn leaves(&self) -> Vec<&Criterion> {
        fn walk<'a>(criteria: &'a [Criterion], out: &mut Vec<&'a Criterion>) {
            for c in criteria {
                match &c.rule {
                    Rule::Group(children) => walk(children, out),
                    _ => out.push(c),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.criteria, &mut out);
        out
    }
}

/// A set-up the rules refuse: the code names the rule, the field the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupRefusal {
    pub code: ErrorCode,
    pub field: String,
    pub reason: Text,
}

fn refuse(
    code: ErrorCode,
    field: impl Into<String>,
    en: impl Into<String>,
    zh: impl Into<String>,
) -> SetupRefusal {
    SetupRefusal {
        code,
        field: field.into(),
        reason: Text::new(en, zh),
    }
}

fn invalid(field: impl Into<String>, en: impl Into<String>, zh: impl Into<String>) -> SetupRefusal {
    refuse(ErrorCode::Invalid, field, en, zh)
}

/// The most criteria (all levels) and checks a set-up has, and the deepest tree.
pub const MAX_CRITERIA: usize = 200;
pub const MAX_CHECKS: usize = 100;
pub const MAX_DEPTH: usize = 3;
/// The most K values a range offers.
pub const MAX_K_CHOICES: u64 = 100_001;

fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn title(field: &str, s: &str) -> Result<String, SetupRefusal> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 200 {
        return Err(invalid(
            field,
            "A title is 1 to 200 characters.",
            "名称须为 1 至 200 个字符。",
        ));
    }
    Ok(t.to_owned())
}

fn points(field: &str, value: Decimal) -> Result<Decimal, SetupRefusal> {
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED || value.scale() > 2 {
        return Err(invalid(
            field,
            "Points are from 0 to 100 with at most 2 decimals.",
            "分值须在 0 至 100 之间，最多两位小数。",
        ));
    }
    Ok(value.normalize())
}

/// Checks a set-up for a tender awarded by `award_method` (`lowest_evaluated_price` or
/// `comprehensive_scoring`) with the given opening fields.
pub fn check(
    input: &SetupInput,
    award_method: &str,
    purchase: Purchase,
    opening_fields: &[String],
) -> Result<Setup, SetupRefusal> {
    let method = match input.method.as_str() {
        "lowest_evaluated_price" => Method::LowestEvaluatedPrice,
        "comprehensive_scoring" => Method::ComprehensiveScoring,
        _ => {
            return Err(invalid(
                "evaluation.method",
                "The method is lowest_evaluated_price or comprehensive_scoring.",
                "评标方法须为 lowest_evaluated_price 或 comprehensive_scoring。",
            ));
        }
    };
    if method.as_str() != award_method {
        return Err(invalid(
            "evaluation.method",
            format!("The evaluation method must be the tender's award method `{award_method}`."),
            format!("评标方法须与项目的评标方法 `{award_method}` 一致。"),
        ));
    }
    if input.compliance.len() > MAX_CHECKS {
        return Err(invalid(
            "evaluation.compliance",
            format!("At most {MAX_CHECKS} compliance checks."),
            format!("符合性审查项最多 {MAX_CHECKS} 项。"),
        ));
    }
    let mut ids = HashSet::new();
    let mut compliance = Vec::with_capacity(input.compliance.len());
    for (i, c) in input.compliance.iter().enumerate() {
        if !is_id(&c.id) || !ids.insert(c.id.clone()) {
            return Err(invalid(
                format!("evaluation.compliance[{i}].id"),
                "Check ids are distinct, 1 to 64 of A-Z a-z 0-9 _ -.",
                "审查项编号须互不重复，为 1 至 64 个字母、数字、_ 或 -。",
            ));
        }
        compliance.push(Check {
            id: c.id.clone(),
            title: title(&format!("evaluation.compliance[{i}].title"), &c.title)?,
        });
    }
    let sme_deduction = input.price.sme_deduction.normalize();
    let sme_ok = if purchase.is_gp() {
        // The SME policy's range for goods and services; 0 where the purchase is reserved to SMEs.
        sme_deduction.is_zero()
            || (Decimal::from(10) <= sme_deduction && sme_deduction <= Decimal::from(20))
    } else {
        Decimal::ZERO <= sme_deduction && sme_deduction < Decimal::from(100)
    };
    if !sme_ok {
        return Err(refuse(
            ErrorCode::SmeDeductionOutOfRange,
            "evaluation.price.sme_deduction",
            "The SME price deduction for government goods and services is 10 % to 20 % (0 when the purchase is reserved to SMEs); elsewhere below 100 %.",
            "政府采购货物和服务的中小企业价格扣除比例为 10% 至 20%（专门面向中小企业的为 0）；其他项目须低于 100%。",
        ));
    }
    let formula = formula(purchase, &input.price)?;
    let criteria = match method {
        Method::LowestEvaluatedPrice => {
            if !input.criteria.is_empty() {
                return Err(invalid(
                    "evaluation.criteria",
                    "The lowest evaluated price method ranks by price alone: no criteria.",
                    "经评审的最低投标价法只比较价格，不设评审因素。",
                ));
            }
            if !matches!(formula, Formula::GpLowestBase) {
                return Err(invalid(
                    "evaluation.price.method",
                    "The lowest evaluated price method uses `gp_lowest_base`.",
                    "经评审的最低投标价法采用 `gp_lowest_base`。",
                ));
            }
            Vec::new()
        }
        Method::ComprehensiveScoring => {
            let mut checker = Checker {
                opening_fields,
                ids: HashSet::new(),
                count: 0,
                prices: 0,
            };
            let criteria = checker.criteria("evaluation.criteria", &input.criteria, 1)?;
            let sum: Decimal = criteria.iter().map(|c| c.weight).sum();
            if sum != Decimal::ONE_HUNDRED {
                return Err(refuse(
                    ErrorCode::WeightsNot100,
                    "evaluation.criteria",
                    format!("The criteria's weights sum to {sum}, not to 100."),
                    format!("评审因素分值合计 {sum}，不等于 100。"),
                ));
            }
            if checker.prices != 1 {
                return Err(invalid(
                    "evaluation.criteria",
                    "Comprehensive scoring has exactly one criterion of type `price`.",
                    "综合评分法须有且仅有一项价格因素（type 为 `price`）。",
                ));
            }
            criteria
        }
    };
    let setup = Setup {
        method,
        compliance,
        criteria,
        formula,
        sme_deduction,
    };
    let weight = setup.price_weight();
    if weight < purchase.min_price_weight() {
        return Err(refuse(
            ErrorCode::PriceWeightTooLow,
            "evaluation.criteria",
            format!(
                "The price weighs {weight} points; government procurement of {} needs at least {} (87号令 Art 55).",
                if purchase == Purchase::GpGoods {
                    "goods"
                } else {
                    "services"
                },
                purchase.min_price_weight()
            ),
            format!(
                "价格分值为 {weight}，政府采购{}的价格分值不得低于 {}（87号令第五十五条）。",
                if purchase == Purchase::GpGoods {
                    "货物"
                } else {
                    "服务"
                },
                purchase.min_price_weight()
            ),
        ));
    }
    Ok(setup)
}
