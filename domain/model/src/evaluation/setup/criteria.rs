//! The criteria tree and the price formula of a set-up, checked (docs/spec/evaluation.md "The
//! set-up"): ids, weights, ranges, groups summing to their weight, and the formula's parameters.

use super::*;

pub(super) struct Checker<'a> {
    pub(super) opening_fields: &'a [String],
    pub(super) ids: HashSet<String>,
    pub(super) count: usize,
    pub(super) prices: usize,
}

impl Checker<'_> {
    pub(super) fn criteria(
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

pub(super) fn formula(purchase: Purchase, input: &PriceInput) -> Result<Formula, SetupRefusal> {
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
