//! Price scores (docs/spec/rules.md "Experts and evaluation"; docs/spec/api-contract.md "Scoring
//! simulator"): the evaluated price of each bid after the SME deduction, the base price, each bid's
//! price score and its rank. The evaluation and `POST /api/v1/scoring/simulate` run this one code.
//! Decimal throughout (28 significant digits); rounding half-up to the cent only where the answer is
//! written, never in between.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::Text;

/// How the base price is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceMethod {
    /// Government procurement (87号令 Art 55): the lowest evaluated price is the base (评标基准价);
    /// score = base / evaluated × weight.
    GpLowestBase,
    /// The construction family *(local)*: the mean of the evaluated prices, after dropping the
    /// given numbers of highest and lowest when at least three remain, × (1 − K); a bid loses E
    /// points per percent it deviates from the base (E above, E below).
    MeanBase(MeanBase),
}

/// The parameters of [`PriceMethod::MeanBase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeanBase {
    pub drop_highest: usize,
    pub drop_lowest: usize,
    /// The downward float K, from 0 (inclusive) to 1 (exclusive).
    pub k: Decimal,
    /// Points lost per percent above the base.
    pub e_above: Decimal,
    /// Points lost per percent below the base.
    pub e_below: Decimal,
}

/// One bid's price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedBid {
    pub bidder: String,
    pub price: Decimal,
    /// A small or medium-sized enterprise (中小企业): its evaluated price is deducted
    /// (87号令 Art 55 and the SME policy).
    pub sme: bool,
}

/// The rule: the method, the price weight (points, 0–100) and the SME deduction (percent, 0–100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRule {
    pub method: PriceMethod,
    pub weight: Decimal,
    pub sme_deduction: Decimal,
}

/// One bid's result, unrounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceScore {
    pub bidder: String,
    pub price: Decimal,
    pub evaluated_price: Decimal,
    pub price_score: Decimal,
    /// 1 for the best; bids tied in score and price share a rank.
    pub rank: usize,
}

/// What the rule gives for a set of bids: the base and the scores, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceResult {
    pub base_price: Decimal,
    pub scores: Vec<PriceScore>,
}

/// Input the rule cannot score, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRefusal {
    pub field: String,
    pub reason: Text,
}

fn refuse(field: impl Into<String>, en: &str, zh: &str) -> PriceRefusal {
    PriceRefusal {
        field: field.into(),
        reason: Text::new(en, zh),
    }
}

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// The largest price scored: 10^15, far beyond any procurement and far inside the decimal's
/// range, so no sum, quotient or product of the formulas can overflow.
pub const MAX_PRICE: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);
/// The most bids one scoring takes.
pub const MAX_BIDS: usize = 10_000;

/// Checks the rule and the bids before anything is computed.
fn check(rule: &PriceRule, bids: &[PricedBid]) -> Result<(), PriceRefusal> {
    if bids.is_empty() || bids.len() > MAX_BIDS {
        return Err(refuse(
            "bids",
            "Give from 1 to 10,000 bids.",
            "报价数量应为 1 至 10,000 个。",
        ));
    }
    if rule.weight < Decimal::ZERO || rule.weight > HUNDRED {
        return Err(refuse(
            "price_weight",
            "The price weight is from 0 to 100.",
            "价格分值应在 0 至 100 之间。",
        ));
    }
    if rule.sme_deduction < Decimal::ZERO || rule.sme_deduction >= HUNDRED {
        return Err(refuse(
            "sme_deduction",
            "The SME deduction is a percentage from 0 to under 100.",
            "中小企业价格扣除比例应不低于 0 且小于 100。",
        ));
    }
    for (i, bid) in bids.iter().enumerate() {
        if bid.price <= Decimal::ZERO || bid.price > MAX_PRICE || bid.price.scale() > 2 {
            return Err(refuse(
                format!("bids[{i}].price"),
                "A price is above zero, at most 10^15, with at most 2 decimals.",
                "报价须大于零、不超过 10^15，且最多两位小数。",
            ));
        }
        if bid.bidder.trim().is_empty() {
            return Err(refuse(
                format!("bids[{i}].bidder"),
                "Name each bidder.",
                "请填写投标人名称。",
            ));
        }
    }
    if let PriceMethod::MeanBase(m) = rule.method {
        if m.k < Decimal::ZERO || m.k >= Decimal::ONE {
            return Err(refuse(
                "mean_base.k",
                "K is from 0 to under 1.",
                "下浮系数 K 应不低于 0 且小于 1。",
            ));
        }
        let e_range = Decimal::ZERO..=HUNDRED;
        if !e_range.contains(&m.e_above) || !e_range.contains(&m.e_below) {
            return Err(refuse(
                "mean_base.e_above",
                "E above and below the base are from 0 to 100 points per percent.",
                "高于和低于基准价的扣分系数 E 均应在 0 至 100 之间。",
            ));
        }
    }
    Ok(())
}

/// An SME bid's evaluated price: its price × (1 − deduction / 100).
pub fn evaluated_price(bid: &PricedBid, sme_deduction: Decimal) -> Decimal {
    if bid.sme {
        bid.price * (HUNDRED - sme_deduction) / HUNDRED
    } else {
        bid.price
    }
}

/// The base price of the mean family: the mean of the evaluated prices after dropping the highest
/// and lowest given numbers, only when at least three remain; then × (1 − K).
pub fn mean_base(evaluated: &[Decimal], m: MeanBase) -> Decimal {
    let mut sorted = evaluated.to_vec();
    sorted.sort();
    let keep = sorted
        .len()
        .saturating_sub(m.drop_highest.saturating_add(m.drop_lowest));
    let kept: &[Decimal] = if keep >= 3 {
        &sorted[m.drop_lowest..m.drop_lowest + keep]
    } else {
        &sorted
    };
    let sum: Decimal = kept.iter().copied().sum();
    sum / Decimal::from(kept.len()) * (Decimal::ONE - m.k)
}

/// Scores `bids` by `rule`.
pub fn score(rule: &PriceRule, bids: &[PricedBid]) -> Result<PriceResult, PriceRefusal> {
    check(rule, bids)?;
    let evaluated: Vec<Decimal> = bids
        .iter()
        .map(|b| evaluated_price(b, rule.sme_deduction))
        .collect();
    let base = match rule.method {
        PriceMethod::GpLowestBase => evaluated.iter().copied().min().unwrap_or(Decimal::ZERO),
        PriceMethod::MeanBase(m) => mean_base(&evaluated, m),
    };
    let mut scores: Vec<PriceScore> = bids
        .iter()
        .zip(&evaluated)
        .map(|(bid, &evaluated)| {
            let price_score = match rule.method {
                // Multiplied first: exact whenever the quotient ends.
                PriceMethod::GpLowestBase => base * rule.weight / evaluated,
                PriceMethod::MeanBase(m) if base > Decimal::ZERO => {
                    let deviation = (evaluated - base) / base * HUNDRED;
                    let e = if deviation > Decimal::ZERO {
                        m.e_above
                    } else {
                        m.e_below
                    };
                    (rule.weight - e * deviation.abs()).max(Decimal::ZERO)
                }
                PriceMethod::MeanBase(_) => Decimal::ZERO,
            };
            PriceScore {
                bidder: bid.bidder.clone(),
                price: bid.price,
                evaluated_price: evaluated,
                price_score,
                rank: 0,
            }
        })
        .collect();
    // 87号令 Art 55: by score, the higher first; equal scores by the lower price.
    scores.sort_by(|a, b| {
        b.price_score
            .cmp(&a.price_score)
            .then(a.price.cmp(&b.price))
            .then(a.bidder.cmp(&b.bidder))
    });
    for i in 0..scores.len() {
        let tied = i > 0
            && scores[i].price_score == scores[i - 1].price_score
            && scores[i].price == scores[i - 1].price;
        scores[i].rank = if tied { scores[i - 1].rank } else { i + 1 };
    }
    Ok(PriceResult {
        base_price: base,
        scores,
    })
}

/// A decimal as the answers write it: half-up to the cent.
pub fn cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// [`cents`] written with exactly two decimals (`"30.00"`).
pub fn cents_text(value: Decimal) -> String {
    let mut rounded = cents(value);
    rounded.rescale(2);
    rounded.to_string()
}

#[cfg(test)]
// Tests: a failed unwrap is a failed test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn bid(bidder: &str, price: &str, sme: bool) -> PricedBid {
        PricedBid {
            bidder: bidder.to_owned(),
            price: d(price),
            sme,
        }
    }

    fn gp(weight: &str, sme: &str) -> PriceRule {
        PriceRule {
            method: PriceMethod::GpLowestBase,
            weight: d(weight),
            sme_deduction: d(sme),
        }
    }

    #[test]
    fn art_55_the_lowest_evaluated_price_is_the_base_and_an_sme_bid_is_deducted() {
        // By hand: B's 1,000,000 deducted 10 % is 900,000, below A's 950,000: B is the base.
        // A: 900,000 / 950,000 × 30 = 28.421052…  → 28.42; B: 30; C: 900,000 / 1,200,000 × 30 = 22.5.
        let r = score(
            &gp("30", "10"),
            &[
                bid("A", "950000.00", false),
                bid("B", "1000000.00", true),
                bid("C", "1200000.00", false),
            ],
        )
        .unwrap();
        assert_eq!(cents(r.base_price), d("900000.00"));
        let got: Vec<(&str, Decimal, usize)> = r
            .scores
            .iter()
            .map(|s| (s.bidder.as_str(), cents(s.price_score), s.rank))
            .collect();
        assert_eq!(
            got,
            [
                ("B", d("30.00"), 1),
                ("A", d("28.42"), 2),
                ("C", d("22.50"), 3)
            ]
        );
    }

    #[test]
    fn art_55_equal_scores_rank_by_the_lower_price() {
        // A non-SME at 900,000 and an SME at 1,000,000 deducted 10 % both evaluate at 900,000:
        // both score 30, and the lower price (A's 900,000) ranks first.
        let r = score(
            &gp("30", "10"),
            &[bid("B", "1000000", true), bid("A", "900000", false)],
        )
        .unwrap();
        assert_eq!(r.scores[0].bidder, "A");
        assert_eq!((r.scores[0].rank, r.scores[1].rank), (1, 2));
        // The same score and the same price: the same rank.
        let r = score(
            &gp("30", "0"),
            &[bid("A", "500", false), bid("B", "500", false)],
        )
        .unwrap();
        assert_eq!((r.scores[0].rank, r.scores[1].rank), (1, 1));
    }

    fn mean(drop: usize, k: &str) -> PriceRule {
        PriceRule {
            method: PriceMethod::MeanBase(MeanBase {
                drop_highest: drop,
                drop_lowest: drop,
                k: d(k),
                e_above: d("1.0"),
                e_below: d("0.5"),
            }),
            weight: d("60"),
            sme_deduction: d("0"),
        }
    }

    #[test]
    fn local_mean_base_drops_the_extremes_only_when_three_remain() {
        // Five bids 90, 95, 100, 105, 130: dropping one each side leaves 95, 100, 105 (mean 100);
        // × (1 − 0.02) = 98. 95 is 3.0612…% below → 60 − 0.5 × 3.0612… = 58.469387… → 58.47;
        // 105 is 7.1428…% above → 60 − 7.1428… = 52.857142… → 52.86.
        let bids = [
            bid("A", "90", false),
            bid("B", "95", false),
            bid("C", "100", false),
            bid("D", "105", false),
            bid("E", "130", false),
        ];
        let r = score(&mean(1, "0.02"), &bids).unwrap();
        assert_eq!(r.base_price, d("98"));
        let of = |who: &str| {
            cents(
                r.scores
                    .iter()
                    .find(|s| s.bidder == who)
                    .unwrap()
                    .price_score,
            )
        };
        assert_eq!(of("B"), d("58.47"));
        assert_eq!(of("D"), d("52.86"));
        // 130 is 32.653…% above: 60 − 32.653… = 27.346… → 27.35.
        assert_eq!(of("E"), d("27.35"));
        // Far enough above, the score floors at 0: 250 over a base of 137.5 is 81.8 % above.
        let far = [
            bid("A", "100", false),
            bid("B", "100", false),
            bid("C", "100", false),
            bid("D", "250", false),
        ];
        let r = score(&mean(0, "0"), &far).unwrap();
        assert_eq!(r.base_price, d("137.5"));
        assert_eq!(r.scores[3].price_score, Decimal::ZERO);
        // Four bids dropping one each side would leave two: nothing is dropped.
        let four = score(&mean(1, "0"), &bids[..4]).unwrap();
        assert_eq!(four.base_price, d("97.5"));
    }

    #[test]
    fn the_answer_rounds_half_up_at_the_half_cent() {
        assert_eq!(cents_text(d("30")), "30.00");
        assert_eq!(cents_text(d("28.421052631")), "28.42");
        assert_eq!(cents(d("0.005")), d("0.01"));
        assert_eq!(cents(d("2.675")), d("2.68"));
        assert_eq!(cents(d("2.6749999")), d("2.67"));
    }

    #[test]
    fn bad_input_names_its_field() {
        assert_eq!(score(&gp("30", "0"), &[]).unwrap_err().field, "bids");
        assert_eq!(
            score(&gp("101", "0"), &[bid("A", "1", false)])
                .unwrap_err()
                .field,
            "price_weight"
        );
        assert_eq!(
            score(
                &gp("30", "0"),
                &[bid("A", "1", false), bid("B", "0", false)]
            )
            .unwrap_err()
            .field,
            "bids[1].price"
        );
        assert_eq!(
            score(&gp("30", "0"), &[bid("A", "1000000000000000.01", false)])
                .unwrap_err()
                .field,
            "bids[0].price"
        );
        assert_eq!(MAX_PRICE, d("1000000000000000"));
        // The largest input the checks let through computes without overflow.
        let huge = [
            bid("A", "1000000000000000", true),
            bid("B", "0.01", false),
            bid("C", "0.01", false),
        ];
        let rule = PriceRule {
            method: PriceMethod::MeanBase(MeanBase {
                drop_highest: usize::MAX,
                drop_lowest: usize::MAX,
                k: d("0.99"),
                e_above: d("100"),
                e_below: d("100"),
            }),
            weight: d("100"),
            sme_deduction: d("99.99"),
        };
        assert!(score(&rule, &huge).is_ok());
        assert!(score(&gp("100", "99.99"), &huge).is_ok());
    }
}
