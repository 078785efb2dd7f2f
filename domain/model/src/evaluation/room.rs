//! What the committee's sheets decide (docs/spec/evaluation.md "The evaluation room"): the
//! compliance review by majority with the dissent kept, then the scores aggregated by the published
//! set-up, the bids ranked, at most three candidates (实施条例 Art 53), and the marks far from
//! the other members' flagged for the committee. Pure and exact: no rounding here.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::price::{PriceRefusal, PricedBid, score};
use super::setup::{Better, Rule, Setup};

/// One member's verdict on one check of one bid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub expert: String,
    pub bidder: String,
    pub check: String,
    pub pass: bool,
    pub reason: String,
}

/// The committee's decision on one check of one bid: pass when more members passed it than
/// failed it (the committee is odd, so there is no tie); who voted the other way is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckDecision {
    pub check: String,
    pub pass: bool,
    pub passed_by: Vec<String>,
    pub failed_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidDecision {
    pub bidder: String,
    /// Passes every check.
    pub valid: bool,
    pub checks: Vec<CheckDecision>,
}

/// The review of every bid against every check, by majority (评标委员会 decides by majority,
/// 评标委员会和评标方法暂行规定 Art 43: a member who disagrees says so, and it is recorded).
pub fn decide(checks: &[String], bidders: &[String], verdicts: &[Verdict]) -> Vec<BidDecision> {
    // Per (bidder, check): who passed it and who failed it.
    type Votes = (Vec<String>, Vec<String>);
    let mut votes: HashMap<(&str, &str), Votes> = HashMap::new();
    for v in verdicts {
        let entry = votes
            .entry((v.bidder.as_str(), v.check.as_str()))
            .or_default();
        if v.pass {
            entry.0.push(v.expert.clone());
        } else {
            entry.1.push(v.expert.clone());
        }
    }
    bidders
        .iter()
        .map(|bidder| {
            let checks: Vec<CheckDecision> = checks
                .iter()
                .map(|check| {
                    let (mut passed_by, mut failed_by) = votes
                        .remove(&(bidder.as_str(), check.as_str()))
                        .unwrap_or_default();
                    passed_by.sort();
                    failed_by.sort();
                    CheckDecision {
                        check: check.clone(),
                        pass: passed_by.len() > failed_by.len(),
                        passed_by,
                        failed_by,
                    }
                })
                .collect();
            BidDecision {
                bidder: bidder.clone(),
                valid: checks.iter().all(|c| c.pass),
                checks,
            }
        })
        .collect()
}

/// A valid bid as the aggregation needs it: its price, whether an SME, and its opening fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoredBid {
    pub bidder: String,
    pub price: Decimal,
    pub sme: bool,
    pub fields: HashMap<String, Decimal>,
}

/// One member's score of one subjective criterion for one bid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub expert: String,
    pub bidder: String,
    pub criterion: String,
    pub score: Decimal,
}

/// A mark far from the other members' mean on the same criterion and bid: more than a third of
/// the criterion's range away *(local: the platform's threshold)*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub expert: String,
    pub bidder: String,
    pub criterion: String,
    pub score: Decimal,
    pub others_mean: Decimal,
}

/// The range is divided by this to find how far from the others a mark may be.
pub const FLAG_DIVISOR: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BidResult {
    pub bidder: String,
    pub price: Decimal,
    pub evaluated_price: Decimal,
    /// Every leaf criterion's points, in the order of [`Setup::leaves`] (the price criterion
    /// included); for the lowest evaluated price method, which has no criteria, the price score.
    pub criteria: Vec<Decimal>,
    pub total: Decimal,
    /// 1 for the best; equal totals and equal prices share a rank.
    pub rank: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking {
    pub base_price: Decimal,
    /// Best first.
    pub results: Vec<BidResult>,
    /// At most three, in rank order (实施条例 Art 53).
    pub candidates: Vec<String>,
    pub flags: Vec<Flag>,
}

/// The most candidates a committee recommends (实施条例 Art 53; 87号令 Art 56 ranks them).
pub const MAX_CANDIDATES: usize = 3;

/// Aggregates the valid bids by `setup` with K drawn at the opening (zero when none): the price
/// score by the formula, each objective criterion from its field, each subjective criterion as the
/// mean of the members' marks; ranked by total, equal totals by the lower price (87号令 Art 55).
pub fn aggregate(
    setup: &Setup,
    k: Decimal,
    bids: &[ScoredBid],
    marks: &[Mark],
) -> Result<Ranking, PriceRefusal> {
    let rule = setup.price_rule(k);
    let priced: Vec<PricedBid> = bids
        .iter()
        .map(|b| PricedBid {
            bidder: b.bidder.clone(),
            price: b.price,
            sme: b.sme,
        })
        .collect();
    let prices = score(&rule, &priced)?;
    let price_of: HashMap<&str, (Decimal, Decimal)> = prices
        .scores
        .iter()
        .map(|s| (s.bidder.as_str(), (s.evaluated_price, s.price_score)))
        .collect();
    let leaves = setup.leaves();
    let bidder_index: HashMap<&str, usize> = bids
        .iter()
        .enumerate()
        .map(|(i, b)| (b.bidder.as_str(), i))
        .collect();
    let leaf_index: HashMap<&str, usize> = leaves
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    // Sums and counts of marks per bid and leaf, in one flat table.
    let width = leaves.len();
    let mut sums = vec![Decimal::ZERO; bids.len() * width];
    let mut counts = vec![0u32; bids.len() * width];
    // Each mark's cell, found once. Sheets list a bid's marks together, so the last bid and
    // criterion found are tried before the maps.
    let mut cells: Vec<Option<usize>> = Vec::with_capacity(marks.len());
    let mut last_bidder: Option<(&str, usize)> = None;
    let mut last_leaf: Option<(&str, usize)> = None;
    for m in marks {
        let bidder = match last_bidder {
            Some((name, i)) if name == m.bidder => Some(i),
            _ => bidder_index.get(m.bidder.as_str()).copied(),
        };
        let leaf = match last_leaf {
            Some((name, i)) if name == m.criterion => Some(i),
            _ => leaf_index.get(m.criterion.as_str()).copied(),
        };
        last_bidder = bidder.map(|i| (m.bidder.as_str(), i));
        last_leaf = leaf.map(|i| (m.criterion.as_str(), i));
        let at = bidder.zip(leaf).map(|(b, l)| b * width + l);
        if let Some(at) = at {
            sums[at] += m.score;
            counts[at] += 1;
        }
        cells.push(at);
    }
    let mut flags = Vec::new();
    for (m, at) in marks.iter().zip(&cells) {
        let Some(at) = *at else { continue };
        let Rule::Subjective { min, max } = leaves[at % width].rule else {
            continue;
        };
        let others = counts[at].saturating_sub(1);
        if others == 0 {
            continue;
        }
        // |score − others' mean| × 3 > range, multiplied out: no division per mark.
        let others = Decimal::from(others);
        let rest = sums[at] - m.score;
        if (m.score * others - rest).abs() * Decimal::from(FLAG_DIVISOR) > (max - min) * others {
            let others_mean = rest / others;
            flags.push(Flag {
                expert: m.expert.clone(),
                bidder: m.bidder.clone(),
                criterion: m.criterion.clone(),
                score: m.score,
                others_mean,
            });
        }
    }
    // The best value of each objective field among the valid bids.
    let best: Vec<Option<Decimal>> = leaves
        .iter()
        .map(|c| match &c.rule {
            Rule::Objective { field, better } => {
                let values = bids
                    .iter()
                    .filter_map(|b| b.fields.get(field).copied())
                    .filter(|v| *v > Decimal::ZERO);
                match better {
                    Better::Lower => values.min(),
                    Better::Higher => values.max(),
                }
            }
            _ => None,
        })
        .collect();
    let mut results: Vec<BidResult> = bids
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let (evaluated_price, price_score) =
                price_of.get(b.bidder.as_str()).copied().unwrap_or_default();
            let criteria: Vec<Decimal> = if leaves.is_empty() {
                vec![price_score]
            } else {
                leaves
                    .iter()
                    .enumerate()
                    .map(|(j, c)| match &c.rule {
                        Rule::Price => price_score,
                        Rule::Objective { field, better } => match (b.fields.get(field), best[j]) {
                            (Some(&v), Some(best)) if v > Decimal::ZERO => match better {
                                Better::Lower => c.weight * best / v,
                                Better::Higher => c.weight * v / best,
                            },
                            _ => Decimal::ZERO,
                        },
                        Rule::Subjective { .. } => {
                            let at = i * width + j;
                            if counts[at] == 0 {
                                Decimal::ZERO
                            } else {
                                sums[at] / Decimal::from(counts[at])
                            }
                        }
                        Rule::Group(_) => Decimal::ZERO,
                    })
                    .collect()
            };
            BidResult {
                bidder: b.bidder.clone(),
                price: b.price,
                evaluated_price,
                total: criteria.iter().copied().sum(),
                criteria,
                rank: 0,
            }
        })
        .collect();
    results.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then(a.price.cmp(&b.price))
            .then(a.bidder.cmp(&b.bidder))
    });
    for i in 0..results.len() {
        let tied = i > 0
            && results[i].total == results[i - 1].total
            && results[i].price == results[i - 1].price;
        results[i].rank = if tied { results[i - 1].rank } else { i + 1 };
    }
    let candidates = results
        .iter()
        .take(MAX_CANDIDATES)
        .map(|r| r.bidder.clone())
        .collect();
    Ok(Ranking {
        base_price: prices.base_price,
        results,
        candidates,
        flags,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::evaluation::setup::{
        CheckInput, CriterionInput, PriceInput, Purchase, RangeInput, SetupInput, check,
    };

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn verdict(expert: &str, bidder: &str, pass: bool) -> Verdict {
        Verdict {
            expert: expert.into(),
            bidder: bidder.into(),
            check: "licence".into(),
            pass,
            reason: String::new(),
        }
    }

    #[test]
    fn art_43_the_committee_decides_compliance_by_majority_and_keeps_the_dissent() {
        let verdicts = vec![
            verdict("e1", "A", true),
            verdict("e2", "A", true),
            verdict("e3", "A", false),
            verdict("e1", "B", false),
            verdict("e2", "B", false),
            verdict("e3", "B", true),
        ];
        let out = decide(&["licence".into()], &["A".into(), "B".into()], &verdicts);
        assert!(out[0].valid);
        assert_eq!(out[0].checks[0].failed_by, ["e3"]);
        assert!(!out[1].valid);
        assert_eq!(out[1].checks[0].passed_by, ["e3"]);
    }

    fn setup() -> Setup {
        let input = SetupInput {
            method: "comprehensive_scoring".into(),
            compliance: vec![CheckInput {
                id: "licence".into(),
                title: "营业执照".into(),
            }],
            criteria: vec![
                CriterionInput {
                    id: "price".into(),
                    title: "价格".into(),
                    weight: d("30"),
                    kind: "price".into(),
                    field: None,
                    better: None,
                    range: None,
                    children: vec![],
                },
                CriterionInput {
                    id: "days".into(),
                    title: "交货期".into(),
                    weight: d("10"),
                    kind: "objective".into(),
                    field: Some("days".into()),
                    better: Some("lower".into()),
                    range: None,
                    children: vec![],
                },
                CriterionInput {
                    id: "plan".into(),
                    title: "方案".into(),
                    weight: d("60"),
                    kind: "subjective".into(),
                    field: None,
                    better: None,
                    range: Some(RangeInput {
                        min: d("0"),
                        max: d("60"),
                    }),
                    children: vec![],
                },
            ],
            price: PriceInput {
                method: "gp_lowest_base".into(),
                sme_deduction: d("10"),
                mean_base: None,
            },
        };
        check(
            &input,
            "comprehensive_scoring",
            Purchase::GpGoods,
            &["days".to_owned()],
        )
        .unwrap()
    }

    fn bid(bidder: &str, price: &str, sme: bool, days: &str) -> ScoredBid {
        ScoredBid {
            bidder: bidder.into(),
            price: d(price),
            sme,
            fields: [("days".to_owned(), d(days))].into(),
        }
    }

    fn mark(expert: &str, bidder: &str, score: &str) -> Mark {
        Mark {
            expert: expert.into(),
            bidder: bidder.into(),
            criterion: "plan".into(),
            score: d(score),
        }
    }

    /// Hand-computed (87号令 Art 55): A 100,000 (SME → 90,000 evaluated), B 95,000, C 120,000.
    /// Base 90,000. Price: A 30, B 90/95×30 = 28.421052…, C 22.5. Days: best 30; A 30 → 10,
    /// B 60 → 5, C 30 → 10. Plan means: A (40+42+44)/3 = 42, B 50, C 30.
    /// Totals: A 82, B 83.421052…, C 62.5 → B, A, C.
    #[test]
    fn art_55_totals_by_the_published_set_up_ranked_with_three_candidates() {
        let bids = [
            bid("A", "100000", true, "30"),
            bid("B", "95000", false, "60"),
            bid("C", "120000", false, "30"),
        ];
        let marks = vec![
            mark("e1", "A", "40"),
            mark("e2", "A", "42"),
            mark("e3", "A", "44"),
            mark("e1", "B", "50"),
            mark("e2", "B", "50"),
            mark("e3", "B", "50"),
            mark("e1", "C", "30"),
            mark("e2", "C", "30"),
            mark("e3", "C", "30"),
        ];
        let r = aggregate(&setup(), Decimal::ZERO, &bids, &marks).unwrap();
        assert_eq!(r.base_price, d("90000"));
        let order: Vec<&str> = r.results.iter().map(|x| x.bidder.as_str()).collect();
        assert_eq!(order, ["B", "A", "C"]);
        assert_eq!(r.results[1].total, d("82"));
        assert_eq!(r.results[2].total, d("62.5"));
        assert_eq!(super::super::price::cents_text(r.results[0].total), "83.42");
        assert_eq!(r.candidates, ["B", "A", "C"]);
        assert!(r.flags.is_empty());
    }

    #[test]
    fn art_55_equal_totals_rank_by_the_lower_price_and_candidates_stop_at_three() {
        // Same price score impossible with different prices under the lowest base, so the plan
        // evens the totals out: A 100,000 + 30 + 10 + 30 = 70; D 120,000: 25 + 10 + 35 = 70.
        let bids = [
            bid("A", "100000", false, "30"),
            bid("D", "120000", false, "30"),
            bid("E", "150000", false, "30"),
            bid("F", "200000", false, "30"),
        ];
        let marks = vec![
            mark("e1", "A", "30"),
            mark("e1", "D", "35"),
            mark("e1", "E", "0"),
            mark("e1", "F", "0"),
        ];
        let r = aggregate(&setup(), Decimal::ZERO, &bids, &marks).unwrap();
        assert_eq!(r.results[0].total, r.results[1].total);
        assert_eq!((r.results[0].bidder.as_str(), r.results[0].rank), ("A", 1));
        assert_eq!((r.results[1].bidder.as_str(), r.results[1].rank), ("D", 2));
        assert_eq!(r.candidates.len(), MAX_CANDIDATES);
    }

    #[test]
    fn a_mark_far_from_the_others_is_flagged() {
        let bids = [bid("A", "100000", false, "30")];
        // Range 60: a third is 20. e3's 5 is 40 below the others' 45.
        let marks = vec![
            mark("e1", "A", "45"),
            mark("e2", "A", "45"),
            mark("e3", "A", "5"),
        ];
        let r = aggregate(&setup(), Decimal::ZERO, &bids, &marks).unwrap();
        assert_eq!(r.flags.len(), 1);
        assert_eq!(r.flags[0].expert, "e3");
        assert_eq!(r.flags[0].others_mean, d("45"));
    }
}
