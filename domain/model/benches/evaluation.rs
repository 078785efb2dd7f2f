//! Scoring and ranking speed (issue "Remote evaluation and award"): 1,000 bids × 9 experts × 30
//! criteria (the price, one objective field, 28 subjective criteria) through the real code path,
//! `room::aggregate` (the price formula, every criterion, the far-mark flags, the ranking),
//! against the same arithmetic on plain arrays of `Decimal` in the same run. Loading from the
//! database is excluded from both. Goal: within 3×.
//!
//! `cargo bench -p tenderhall-model --bench evaluation` (`BENCH_ROUNDS`, default 15;
//! `BENCH_BIDS`, default 1000). Prints each figure's median and the ratio.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use tenderhall_model::evaluation::room::{Mark, ScoredBid, aggregate};
use tenderhall_model::evaluation::setup::{
    CriterionInput, PriceInput, Purchase, RangeInput, SetupInput, check,
};

const EXPERTS: usize = 9;
const SUBJECTIVE: usize = 28;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn criterion(id: String, weight: i64, kind: &str) -> CriterionInput {
    CriterionInput {
        title: id.clone(),
        id,
        weight: Decimal::from(weight),
        kind: kind.to_owned(),
        field: (kind == "objective").then(|| "days".to_owned()),
        better: (kind == "objective").then(|| "lower".to_owned()),
        range: (kind == "subjective").then(|| RangeInput {
            min: Decimal::ZERO,
            max: Decimal::from(weight),
        }),
        children: Vec::new(),
    }
}

/// The same arithmetic on plain arrays: price scores from the lowest evaluated price, the
/// objective field against its best, each subjective mean, the far-mark test, totals, the sort.
fn plain(prices: &[Decimal], days: &[Decimal], marks: &[Decimal], weights: &[Decimal]) -> usize {
    let n = prices.len();
    let hundred = Decimal::ONE_HUNDRED;
    let evaluated: Vec<Decimal> = prices
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 3 == 0 {
                p * (hundred - Decimal::TEN) / hundred
            } else {
                *p
            }
        })
        .collect();
    let base = evaluated.iter().copied().min().unwrap_or_default();
    let best_days = days.iter().copied().min().unwrap_or_default();
    let nine = Decimal::from(EXPERTS);
    let others = Decimal::from(EXPERTS - 1);
    let mut flags = 0;
    let mut totals: Vec<(Decimal, Decimal, usize)> = Vec::with_capacity(n);
    for b in 0..n {
        let mut total =
            base * Decimal::from(30) / evaluated[b] + Decimal::TEN * best_days / days[b];
        for c in 0..SUBJECTIVE {
            let cell = &marks[(b * SUBJECTIVE + c) * EXPERTS..][..EXPERTS];
            let sum: Decimal = cell.iter().copied().sum();
            for m in cell {
                if (m * others - (sum - m)).abs() * Decimal::from(3) > weights[c] * others {
                    flags += 1;
                }
            }
            total += sum / nine;
        }
        totals.push((total, prices[b], b));
    }
    totals.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    std::hint::black_box(&totals);
    flags
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds = env("BENCH_ROUNDS", 15).max(1);
    let n = env("BENCH_BIDS", 1000).max(3);
    // 30 criteria: price 30, delivery 10, 28 subjective summing to 60 (two of 3, 26 of 2).
    let weights: Vec<i64> = (0..SUBJECTIVE).map(|c| if c < 4 { 3 } else { 2 }).collect();
    let mut criteria = vec![
        criterion("price".into(), 30, "price"),
        criterion("delivery".into(), 10, "objective"),
    ];
    criteria.extend(
        weights
            .iter()
            .enumerate()
            .map(|(c, w)| criterion(format!("s{c:02}"), *w, "subjective")),
    );
    let input = SetupInput {
        method: "comprehensive_scoring".into(),
        compliance: Vec::new(),
        criteria,
        price: PriceInput {
            method: "gp_lowest_base".into(),
            sme_deduction: Decimal::TEN,
            mean_base: None,
        },
    };
    let setup = check(
        &input,
        "comprehensive_scoring",
        Purchase::GpGoods,
        &["days".into()],
    )
    .map_err(|r| format!("{}: {}", r.field, r.reason.en))?;
    // Deterministic spread of prices, delivery days and marks (with two decimals).
    let price = |b: usize| Decimal::new(80_000_000 + ((b * 7919) % 40_000_000) as i64, 2);
    let day = |b: usize| Decimal::from(20 + (b * 31) % 60);
    let mark = |b: usize, c: usize, e: usize| {
        let max = weights[c] * 100;
        Decimal::new(((b * 131 + c * 17 + e * 7) as i64) % (max + 1), 2)
    };
    let bids: Vec<ScoredBid> = (0..n)
        .map(|b| ScoredBid {
            bidder: format!("org_{b:05}"),
            price: price(b),
            sme: b % 3 == 0,
            fields: HashMap::from([("days".to_owned(), day(b))]),
        })
        .collect();
    let mut marks = Vec::with_capacity(n * SUBJECTIVE * EXPERTS);
    let mut plain_marks = Vec::with_capacity(n * SUBJECTIVE * EXPERTS);
    for (b, bid) in bids.iter().enumerate() {
        for c in 0..SUBJECTIVE {
            for e in 0..EXPERTS {
                marks.push(Mark {
                    expert: format!("exp_{e}"),
                    bidder: bid.bidder.clone(),
                    criterion: format!("s{c:02}"),
                    score: mark(b, c, e),
                });
                plain_marks.push(mark(b, c, e));
            }
        }
    }
    let prices: Vec<Decimal> = (0..n).map(price).collect();
    let days: Vec<Decimal> = (0..n).map(day).collect();
    let plain_weights: Vec<Decimal> = weights.iter().map(|w| Decimal::from(*w)).collect();

    let mut anchor = Vec::with_capacity(rounds);
    let mut real = Vec::with_capacity(rounds);
    let (mut flags_plain, mut flags_real) = (0, 0);
    for _ in 0..rounds {
        let started = Instant::now();
        flags_plain = plain(&prices, &days, &plain_marks, &plain_weights);
        anchor.push(started.elapsed());

        let started = Instant::now();
        let ranking = aggregate(&setup, Decimal::ZERO, &bids, &marks)
            .map_err(|r| format!("{}: {}", r.field, r.reason.en))?;
        real.push(started.elapsed());
        flags_real = ranking.flags.len();
        std::hint::black_box(ranking);
    }
    if flags_plain != flags_real {
        return Err(format!("the two paths disagree: {flags_plain} vs {flags_real} flags").into());
    }
    let (anchor, real) = (median(anchor), median(real));
    println!(
        "{n} bids x {EXPERTS} experts x 30 criteria ({} marks, {flags_real} flagged); {rounds} rounds (medians)",
        marks.len()
    );
    println!(
        "anchor: plain Decimal arrays        {:>8.2} ms",
        anchor.as_secs_f64() * 1e3
    );
    println!(
        "real: room::aggregate               {:>8.2} ms",
        real.as_secs_f64() * 1e3
    );
    println!(
        "ratio real / anchor: {:.2}x (goal: at most 3x)",
        real.as_secs_f64() / anchor.as_secs_f64()
    );
    Ok(())
}
