//! The draw's speed (issue "Evaluation experts"): deciding a draw over a pool of 100,000 experts
//! with 5,000 declared relationships and 200 registered bidders (avoidance, ranking by
//! HMAC-SHA256, seating), against the floor measured in the same run: a plain sort of 100,000
//! random 32-byte keys. Goal: within 10× of the floor and under 100 ms.
//!
//! `cargo bench -p tenderhall-model --bench draw` (`BENCH_ROUNDS`, default 15; `BENCH_POOL`,
//! default 100000). Prints each figure's median and the ratio.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ring::rand::{SecureRandom, SystemRandom};
use tenderhall_model::expert::draw::{SeatGroup, rank, seat};
use tenderhall_model::expert::{Candidate, Parties, RepeatLimit, Specialty, eligibility};

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds = env("BENCH_ROUNDS", 15).max(1);
    let size = env("BENCH_POOL", 100_000).max(1000);
    let rng = SystemRandom::new();
    let code = |n: usize| format!("91330100MA{n:08}");
    let on = NaiveDate::from_ymd_opt(2027, 6, 1).ok_or("date")?;
    let specialties = ["A01", "A01.02", "A01.03", "A02"].map(|s| Specialty::parse(s).ok_or("code"));
    let mut pool = Vec::with_capacity(size);
    for i in 0..size {
        let specialty = specialties[i % specialties.len()].clone()?;
        pool.push(Candidate {
            expert_id: format!("exp_{i:06}"),
            specialties: vec![specialty],
            region: format!("R{}", i % 11),
            // Several experts per employer, as in a real pool.
            employer: code(i / 4),
            suspended_until: None,
            unavailable: BTreeSet::new(),
            former_employers: Vec::new(),
            relatives_employers: Vec::new(),
            recent_evaluations_for_tenderer: 0,
        });
    }
    // 5,000 declared relationships, half former employers, half relatives' employers, some of them
    // the bidders'.
    for r in 0..5_000 {
        let expert = &mut pool[(r * 7919) % size];
        if r % 2 == 0 {
            expert
                .former_employers
                .push((code(1_000_000 + r % 400), on - chrono::Duration::days(400)));
        } else {
            expert.relatives_employers.push(code(1_000_000 + r % 400));
        }
    }
    // 200 bidders, the tenderer and its agency.
    let parties = Parties {
        interested: (0..202).map(|b| code(1_000_000 + b)).collect(),
        supervisors: BTreeSet::from([code(2_000_000)]),
    };
    let groups = [SeatGroup {
        specialty: "A01".to_owned(),
        region: None,
        count: 9,
    }];

    let mut floor = Vec::with_capacity(rounds);
    let mut draw = Vec::with_capacity(rounds);
    let mut eligible = 0;
    for _ in 0..rounds {
        // The floor: sorting as many random 32-byte keys (made before the clock starts).
        let mut keys = vec![[0u8; 32]; size];
        for key in &mut keys {
            rng.fill(key).map_err(|_| "rng")?;
        }
        let started = Instant::now();
        keys.sort_unstable();
        floor.push(started.elapsed());
        std::hint::black_box(&keys);

        let mut secret = [0u8; 32];
        rng.fill(&mut secret).map_err(|_| "rng")?;
        let started = Instant::now();
        let sorted = eligibility(&pool, &groups, &parties, RepeatLimit::default(), on);
        let ranking = rank(&secret, "head:42:00ff", &sorted.eligible);
        let seating = seat(&groups, 2, &ranking, &sorted.seatable, &Default::default());
        draw.push(started.elapsed());
        eligible = sorted.eligible.len();
        std::hint::black_box(seating);
    }
    let (floor, draw) = (median(floor), median(draw));
    println!(
        "pool {size} experts, 5000 relationships, 200 bidders; {eligible} eligible; {rounds} rounds (medians)"
    );
    println!(
        "floor: sort of {size} random 32-byte keys  {:>8.2} ms",
        floor.as_secs_f64() * 1e3
    );
    println!(
        "draw: avoidance + ranking + seating    {:>8.2} ms",
        draw.as_secs_f64() * 1e3
    );
    println!(
        "ratio draw / floor: {:.1}x (goal: at most 10x, and under 100 ms)",
        draw.as_secs_f64() / floor.as_secs_f64()
    );
    Ok(())
}
