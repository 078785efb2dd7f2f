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

struct Checker<'a> {
    opening_fields: &'a [String],
    ids: HashSet<String>,
    count: usize,
    prices: usize,
}

impl Checker<'_> {
    fn criteria(
        &mut self,
        path: &str,
        input: &[CriterionInput],
        depth: usize,
    ) -> Result<Vec<Criterion>, SetupRefusal> {
        let mut out = Vec::with_capacity(input.len());
        for (i, c) in input.iter().enumerate() {
            let at = format!("{path}[{i}]");
            let field = |name: &str| format!("{at}.{name}");
            self.count += 1;
            if self.count > MAX_CRITERIA {
                return Err(invalid(
                    "evaluation.criteria",
                    format!("At most {MAX_CRITERIA} criteria."),
                    format!("评审因素最多 {MAX_CRITERIA} 项。"),
                ));
            }
            if !is_id(&c.id) || !self.ids.insert(c.id.clone()) {
                return Err(invalid(
                    field("id"),
                    "Criterion ids are distinct, 1 to 64 of A-Z a-z 0-9 _ -.",
                    "评审因素编号须互不重复，为 1 至 64 个字母、数字、_ 或 -。",
                ));
            }
            let weight = points(&field("weight"), c.weight)?;
            let rule = match c.kind.as_str() {
                "price" => {
                    self.prices += 1;
                    Rule::Price
                }
                "objective" => {
                    let name = c.field.clone().unwrap_or_default();
                    if !self.opening_fields.contains(&name) {
                        return Err(invalid(
                            field("field"),
                            "An objective criterion names one of the tender's opening fields.",
                            "客观评审因素须对应招标项目的一个开标字段。",
                        ));
                    }
                    let better = match c.better.as_deref() {
                        Some("lower") => Better::Lower,
                        Some("higher") => Better::Higher,
                        _ => {
                            return Err(invalid(
                                field("better"),
                                "Say whether `lower` or `higher` is better.",
                                "请说明数值 `lower`（越低越好）或 `higher`（越高越好）。",
                            ));
                        }
                    };
                    Rule::Objective {
                        field: name,
                        better,
                    }
                }
                "subjective" => {
                    let Some(range) = c.range else {
                        return Err(invalid(
                            field("range"),
                            "A subjective criterion has a range {min, max}.",
                            "主观评审因素须有评分区间 {min, max}。",
                        ));
                    };
                    let min = points(&field("range.min"), range.min)?;
                    let max = points(&field("range.max"), range.max)?;
                    if min >= max {
                        return Err(refuse(
                            ErrorCode::EmptyRange,
                            field("range"),
                            format!(
                                "The range {min} to {max} leaves the experts nothing to judge: its minimum must be below its maximum."
                            ),
                            format!("评分区间 {min} 至 {max} 无可评判的余地：下限须低于上限。"),
                        ));
                    }
                    if max > weight {
                        return Err(invalid(
                            field("range.max"),
                            "A range ends at or below the criterion's weight.",
                            "评分区间上限不得超过该因素的分值。",
                        ));
                    }
                    Rule::Subjective { min, max }
                }
                "group" => {
                    if depth >= MAX_DEPTH || c.children.is_empty() {
                        return Err(invalid(
                            field("children"),
                            format!(
                                "A group has children, and the tree is at most {MAX_DEPTH} levels deep."
                            ),
                            format!("评审因素分组须有子项，且最多 {MAX_DEPTH} 层。"),
                        ));
                    }
                    let children = self.criteria(&field("children"), &c.children, depth + 1)?;
                    let sum: Decimal = children.iter().map(|c| c.weight).sum();
                    if sum != weight {
                        return Err(refuse(
                            ErrorCode::WeightsNot100,
                            field("children"),
                            format!(
                                "The weights of `{}`'s children sum to {sum}, not to its weight {weight}.",
                                c.id
                            ),
                            format!("`{}` 的子项分值合计 {sum}，与其分值 {weight} 不符。", c.id),
                        ));
                    }
                    Rule::Group(children)
                }
                _ => {
                    return Err(invalid(
                        field("type"),
                        "A criterion's type is price, objective, subjective or group.",
                        "评审因素类型须为 price、objective、subjective 或 group。",
                    ));
                }
            };
            if !matches!(rule, Rule::Group(_)) && !c.children.is_empty() {
                return Err(invalid(
                    field("children"),
                    "Only a group has children.",
                    "只有分组才有子项。",
                ));
            }
            out.push(Criterion {
                id: c.id.clone(),
                title: title(&field("title"), &c.title)?,
                weight,
                rule,
            });
        }
        Ok(out)
    }
}

fn formula(purchase: Purchase, input: &PriceInput) -> Result<Formula, SetupRefusal> {
    match (input.method.as_str(), &input.mean_base) {
        ("gp_lowest_base", None) => Ok(Formula::GpLowestBase),
        ("gp_lowest_base", Some(_)) => Err(invalid(
            "evaluation.price.mean_base",
            "`mean_base` parameters go with the `mean_base` method only.",
            "`mean_base` 参数仅用于 `mean_base` 方法。",
        )),
        ("mean_base", mean) => {
            let Some(m) = mean else {
                return Err(invalid(
                    "evaluation.price.mean_base",
                    "The `mean_base` method needs its parameters.",
                    "`mean_base` 方法须给出参数。",
                ));
            };
            if purchase.is_gp() && (m.drop_highest > 0 || m.drop_lowest > 0) {
                return Err(refuse(
                    ErrorCode::PriceDropForbidden,
                    "evaluation.price.mean_base",
                    "Government procurement may not drop the highest or lowest prices (87号令 Art 57).",
                    "政府采购不得去掉最高报价和最低报价（87号令第五十七条）。",
                ));
            }
            if purchase.is_gp() {
                return Err(refuse(
                    ErrorCode::PriceMethodNotAllowed,
                    "evaluation.price.method",
                    "Government procurement scores price from the lowest evaluated price (`gp_lowest_base`, 87号令 Art 55).",
                    "政府采购价格分须采用低价优先法（`gp_lowest_base`，87号令第五十五条）。",
                ));
            }
            if m.drop_highest > 10 || m.drop_lowest > 10 {
                return Err(invalid(
                    "evaluation.price.mean_base",
                    "Drop at most 10 highest and 10 lowest prices.",
                    "去掉最高、最低报价各不得超过 10 个。",
                ));
            }
            let e = |name: &str, v: Decimal| {
                if v < Decimal::ZERO || v > Decimal::ONE_HUNDRED {
                    Err(invalid(
                        format!("evaluation.price.mean_base.{name}"),
                        "E is from 0 to 100 points per percent.",
                        "E 须在每偏离 1% 扣 0 至 100 分之间。",
                    ))
                } else {
                    Ok(v)
                }
            };
            let k = KRange::new(m.k_min, m.k_max, m.k_step.unwrap_or(KRange::DEFAULT_STEP))
                .map_err(|(en, zh)| invalid("evaluation.price.mean_base.k_min", en, zh))?;
            Ok(Formula::MeanBase {
                drop_highest: m.drop_highest,
                drop_lowest: m.drop_lowest,
                k,
                e_above: e("e_above", m.e_above)?,
                e_below: e("e_below", m.e_below)?,
            })
        }
        _ => Err(invalid(
            "evaluation.price.method",
            "The price method is gp_lowest_base or mean_base.",
            "价格计算方法须为 gp_lowest_base 或 mean_base。",
        )),
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn leaf(id: &str, weight: &str, kind: &str) -> CriterionInput {
        CriterionInput {
            id: id.into(),
            title: id.into(),
            weight: d(weight),
            kind: kind.into(),
            field: None,
            better: None,
            range: (kind == "subjective").then(|| RangeInput {
                min: Decimal::ZERO,
                max: d(weight),
            }),
            children: Vec::new(),
        }
    }

    fn scoring(price: &str, rest: &str) -> SetupInput {
        SetupInput {
            method: "comprehensive_scoring".into(),
            compliance: vec![CheckInput {
                id: "licence".into(),
                title: "营业执照".into(),
            }],
            criteria: vec![
                leaf("price", price, "price"),
                leaf("tech", rest, "subjective"),
            ],
            price: PriceInput {
                method: "gp_lowest_base".into(),
                sme_deduction: d("10"),
                mean_base: None,
            },
        }
    }

    fn code(r: Result<Setup, SetupRefusal>) -> ErrorCode {
        r.unwrap_err().code
    }

    #[test]
    fn art55_gp_goods_price_weight_at_least_30() {
        let ok = check(
            &scoring("30", "70"),
            "comprehensive_scoring",
            Purchase::GpGoods,
            &[],
        );
        assert_eq!(ok.unwrap().price_weight(), d("30"));
        let low = check(
            &scoring("29.5", "70.5"),
            "comprehensive_scoring",
            Purchase::GpGoods,
            &[],
        );
        assert_eq!(code(low), ErrorCode::PriceWeightTooLow);
    }

    #[test]
    fn art55_gp_services_price_weight_at_least_10() {
        let ok = check(
            &scoring("10", "90"),
            "comprehensive_scoring",
            Purchase::GpServices,
            &[],
        );
        assert!(ok.is_ok());
        let low = check(
            &scoring("9", "91"),
            "comprehensive_scoring",
            Purchase::GpServices,
            &[],
        );
        assert_eq!(code(low), ErrorCode::PriceWeightTooLow);
        // Works have no floor.
        let works = check(
            &scoring("5", "95"),
            "comprehensive_scoring",
            Purchase::Works,
            &[],
        );
        assert!(works.is_ok());
    }

    #[test]
    fn weights_sum_to_100_at_the_top_and_to_the_group_below() {
        let short = check(
            &scoring("30", "60"),
            "comprehensive_scoring",
            Purchase::GpGoods,
            &[],
        );
        assert_eq!(code(short), ErrorCode::WeightsNot100);
        let mut grouped = scoring("40", "60");
        grouped.criteria[1] = CriterionInput {
            kind: "group".into(),
            range: None,
            children: vec![leaf("a", "30", "subjective"), leaf("b", "20", "subjective")],
            ..leaf("tech", "60", "group")
        };
        let r = check(&grouped, "comprehensive_scoring", Purchase::GpGoods, &[]);
        let refusal = r.unwrap_err();
        assert_eq!(refusal.code, ErrorCode::WeightsNot100);
        assert_eq!(refusal.field, "evaluation.criteria[1].children");
        grouped.criteria[1].children[1].weight = d("30");
        grouped.criteria[1].children[1].range = Some(RangeInput {
            min: Decimal::ZERO,
            max: d("30"),
        });
        let setup = check(&grouped, "comprehensive_scoring", Purchase::GpGoods, &[]).unwrap();
        let leaves: Vec<&str> = setup.leaves().iter().map(|c| c.id.as_str()).collect();
        assert_eq!(leaves, ["price", "a", "b"]);
    }

    #[test]
    fn a_subjective_range_must_leave_room_to_judge() {
        let mut s = scoring("30", "70");
        s.criteria[1].range = Some(RangeInput {
            min: d("20"),
            max: d("20"),
        });
        assert_eq!(
            code(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])),
            ErrorCode::EmptyRange
        );
        s.criteria[1].range = Some(RangeInput {
            min: d("0"),
            max: d("71"),
        });
        assert_eq!(
            code(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])),
            ErrorCode::Invalid
        );
    }

    fn mean_base(drop: usize) -> PriceInput {
        PriceInput {
            method: "mean_base".into(),
            sme_deduction: Decimal::ZERO,
            mean_base: Some(MeanBaseInput {
                drop_highest: drop,
                drop_lowest: drop,
                k_min: d("0.01"),
                k_max: d("0.03"),
                k_step: None,
                e_above: d("1"),
                e_below: d("0.5"),
            }),
        }
    }

    #[test]
    fn art57_gp_may_not_drop_the_highest_or_lowest_price() {
        let mut s = scoring("30", "70");
        s.price = mean_base(1);
        assert_eq!(
            code(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])),
            ErrorCode::PriceDropForbidden
        );
        s.price = mean_base(0);
        assert_eq!(
            code(check(
                &s,
                "comprehensive_scoring",
                Purchase::GpServices,
                &[]
            )),
            ErrorCode::PriceMethodNotAllowed
        );
        // Works may: the mean-base family with K drawn at the opening.
        s.price = mean_base(1);
        let works = check(&s, "comprehensive_scoring", Purchase::Works, &[]).unwrap();
        let k = works.k_range().unwrap();
        assert_eq!((k.min, k.max, k.choices()), (d("0.01"), d("0.03"), 21));
    }

    #[test]
    fn sme_deduction_for_gp_is_10_to_20_percent() {
        let mut s = scoring("30", "70");
        s.price.sme_deduction = d("5");
        assert_eq!(
            code(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])),
            ErrorCode::SmeDeductionOutOfRange
        );
        s.price.sme_deduction = d("0");
        assert!(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[]).is_ok());
    }

    #[test]
    fn the_method_is_the_tenders_and_lowest_price_has_no_criteria() {
        let s = scoring("30", "70");
        assert_eq!(
            check(&s, "lowest_evaluated_price", Purchase::GpGoods, &[])
                .unwrap_err()
                .field,
            "evaluation.method"
        );
        let mut lowest = s.clone();
        lowest.method = "lowest_evaluated_price".into();
        assert_eq!(
            check(&lowest, "lowest_evaluated_price", Purchase::GpGoods, &[])
                .unwrap_err()
                .field,
            "evaluation.criteria"
        );
        lowest.criteria.clear();
        let setup = check(&lowest, "lowest_evaluated_price", Purchase::GpGoods, &[]).unwrap();
        assert_eq!(setup.price_weight(), Decimal::ONE_HUNDRED);
    }

    #[test]
    fn objective_criteria_read_an_opening_field() {
        let mut s = scoring("30", "50");
        s.criteria.push(CriterionInput {
            field: Some("delivery_days".into()),
            better: Some("lower".into()),
            ..leaf("delivery", "20", "objective")
        });
        assert_eq!(
            check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])
                .unwrap_err()
                .field,
            "evaluation.criteria[2].field"
        );
        let fields = ["delivery_days".to_owned()];
        assert!(check(&s, "comprehensive_scoring", Purchase::GpGoods, &fields).is_ok());
    }
}
