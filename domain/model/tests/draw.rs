//! The draw over random pools (issue "Evaluation experts", docs/spec/draws.md): no seated expert
//! breaks an avoidance rule (政府采购法实施条例 Art 9; 评标委员会暂行规定 Art 12), every eligible
//! expert can be drawn, the ranking is a function of the proof's inputs alone, and over many secrets
//! each eligible expert is drawn equally often (实施条例 Art 46: at random).

// Tests: a failed unwrap is a failed test (the workspace lints deny them outside tests, Cargo.toml).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use proptest::prelude::*;
use tenderhall_model::expert::draw::{
    Answer, Excluded, Proof, SeatGroup, commitment, rank, seat, verify,
};
use tenderhall_model::expert::{
    Candidate, Parties, RepeatLimit, Specialty, eligibility, exclusion,
};

const SPECIALTIES: [&str; 5] = ["A", "A01", "A01.02", "B", "B07"];
const EMPLOYERS: [&str; 8] = ["E0", "E1", "E2", "E3", "E4", "E5", "E6", "E7"];

fn day(offset: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 6, 1).unwrap() + chrono::Duration::days(offset)
}

fn candidate() -> impl Strategy<Value = Candidate> {
    (
        proptest::sample::subsequence(SPECIALTIES.to_vec(), 1..3),
        0..2usize,
        0..EMPLOYERS.len(),
        proptest::option::weighted(0.1, -30i64..30),
        proptest::collection::btree_set(-3i64..3, 0..2),
        proptest::collection::vec((0..EMPLOYERS.len(), -2000i64..0), 0..2),
        proptest::collection::vec(0..EMPLOYERS.len(), 0..2),
        0u32..5,
    )
        .prop_map(
            |(specialties, region, employer, suspended, away, former, relatives, evaluations)| {
                Candidate {
                    expert_id: String::new(),
                    specialties: specialties
                        .iter()
                        .map(|s| Specialty::parse(s).unwrap())
                        .collect(),
                    region: format!("R{region}"),
                    employer: EMPLOYERS[employer].to_owned(),
                    suspended_until: suspended.map(day),
                    unavailable: away.into_iter().map(day).collect(),
                    former_employers: former
                        .into_iter()
                        .map(|(e, left)| (EMPLOYERS[e].to_owned(), day(left)))
                        .collect(),
                    relatives_employers: relatives
                        .into_iter()
                        .map(|e| EMPLOYERS[e].to_owned())
                        .collect(),
                    recent_evaluations_for_tenderer: evaluations,
                }
            },
        )
}

fn pool() -> impl Strategy<Value = Vec<Candidate>> {
    proptest::collection::vec(candidate(), 1..60).prop_map(|mut pool| {
        for (i, c) in pool.iter_mut().enumerate() {
            c.expert_id = format!("exp_{i:03}");
        }
        pool
    })
}

fn groups() -> impl Strategy<Value = Vec<SeatGroup>> {
    proptest::collection::vec(
        (
            0..SPECIALTIES.len(),
            proptest::option::of(0..2usize),
            1u32..4,
        ),
        1..3,
    )
    .prop_map(|groups| {
        groups
            .into_iter()
            .map(|(s, region, count)| SeatGroup {
                specialty: SPECIALTIES[s].to_owned(),
                region: region.map(|r| format!("R{r}")),
                count,
            })
            .collect()
    })
}

fn parties() -> impl Strategy<Value = Parties> {
    (
        proptest::sample::subsequence(EMPLOYERS.to_vec(), 0..3),
        proptest::sample::subsequence(EMPLOYERS.to_vec(), 0..2),
    )
        .prop_map(|(interested, supervisors)| Parties {
            interested: interested.into_iter().map(str::to_owned).collect(),
            supervisors: supervisors.into_iter().map(str::to_owned).collect(),
        })
}

/// Runs a draw to its end: each invitation answered by `answer_of` until nobody is left to invite.
fn run_draw(
    groups: &[SeatGroup],
    ranking: &[String],
    seatable: &BTreeMap<String, tenderhall_model::expert::draw::Seatable>,
    answer_of: impl Fn(&str) -> Answer,
) -> BTreeMap<String, Answer> {
    let mut answers = BTreeMap::new();
    loop {
        let seating = seat(groups, 0, ranking, seatable, &answers);
        if seating.to_invite.is_empty() {
            return answers;
        }
        for (id, _) in seating.to_invite {
            let answer = answer_of(&id);
            answers.insert(id, answer);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn art_9_no_seated_expert_breaks_an_avoidance_rule_and_the_proof_replays(
        pool in pool(),
        groups in groups(),
        parties in parties(),
        secret in proptest::array::uniform32(any::<u8>()),
        public_input in "[a-z0-9:]{0,24}",
        declines in proptest::collection::btree_set(0usize..60, 0..10),
    ) {
        let limit = RepeatLimit::default();
        let on = day(0);
        let sorted = eligibility(&pool, &groups, &parties, limit, on);
        let ranking = rank(&secret, &public_input, &sorted.eligible);
        let answers = run_draw(&groups, &ranking, &sorted.seatable, |id| {
            let index: usize = id["exp_".len()..].parse().unwrap();
            if declines.contains(&index) { Answer::Declined } else { Answer::Accepted }
        });
        let seating = seat(&groups, 0, &ranking, &sorted.seatable, &answers);
        let mut employers = BTreeSet::new();
        let mut filled = vec![0u32; groups.len()];
        for (id, group, answer) in &seating.seated {
            prop_assert_eq!(*answer, Answer::Accepted);
            let expert = pool.iter().find(|c| &c.expert_id == id).unwrap();
            prop_assert_eq!(exclusion(expert, &parties, limit, on), None);
            prop_assert!(employers.insert(expert.employer.clone()), "two seats for {}", expert.employer);
            let wanted = Specialty::parse(&groups[*group].specialty).unwrap();
            prop_assert!(expert.specialties.iter().any(|s| s.fills(&wanted)));
            if let Some(region) = &groups[*group].region {
                prop_assert_eq!(&expert.region, region);
            }
            filled[*group] += 1;
        }
        for (group, n) in groups.iter().zip(&filled) {
            prop_assert!(*n <= group.count);
        }
        // Every excluded expert has the reason the rules give it.
        for (id, reason) in &sorted.excluded {
            let expert = pool.iter().find(|c| &c.expert_id == id).unwrap();
            prop_assert_eq!(exclusion(expert, &parties, limit, on), Some(*reason));
        }
        // The proof replays from itself alone.
        let proof = Proof {
            draw_id: "drw_p".to_owned(),
            commitment: commitment(&secret),
            public_input: Some(public_input.clone()),
            secret: Some(hex::encode(secret)),
            pool_hash: "00".repeat(32),
            eligible: sorted.eligible.clone(),
            excluded: sorted.excluded.iter().map(|(id, r)| Excluded {
                expert_id: id.clone(),
                reason: r.as_str().to_owned(),
            }).collect(),
            ranking: ranking.clone(),
            accepted: seating.seated.iter().map(|(id, _, _)| id.clone()).collect(),
            seats: groups.clone(),
            reserves: 0,
            seatable: sorted.seatable.values().cloned().collect(),
            answers,
        };
        prop_assert_eq!(verify(&proof), Ok(()));
        // The ranking depends on the secret, the public input and the set of ids, not their order.
        let mut shuffled = sorted.eligible.clone();
        shuffled.reverse();
        prop_assert_eq!(rank(&secret, &public_input, &shuffled), ranking);
    }

    #[test]
    fn every_eligible_expert_can_be_drawn(
        pool in pool(),
        groups in groups(),
        parties in parties(),
    ) {
        let sorted = eligibility(&pool, &groups, &parties, RepeatLimit::default(), day(0));
        for expert in &sorted.eligible {
            // Some secret puts the expert first, and the first-ranked expert is always invited.
            let drawn = (0u32..5000).any(|i| {
                let secret = ring::digest::digest(&ring::digest::SHA256, &i.to_be_bytes());
                let ranking = rank(secret.as_ref(), "x", &sorted.eligible);
                ranking.first() == Some(expert)
                    && seat(&groups, 0, &ranking, &sorted.seatable, &BTreeMap::new())
                        .to_invite
                        .first()
                        .is_some_and(|(id, _)| id == expert)
            });
            prop_assert!(drawn, "{} was never drawn", expert);
        }
    }
}

/// 实施条例 Art 46, drawn at random: over 20,000 draws with different secrets, each of 20 eligible
/// experts takes one of 5 seats about 5,000 times. Pearson's chi-square over the 20 counts (19
/// degrees of freedom) stays under 43.82, its 0.1 % critical value. The secrets are fixed (SHA-256
/// of the draw's number), so the test gives the same answer every run.
#[test]
fn art_46_each_eligible_expert_is_drawn_equally_often() {
    let experts: Vec<String> = (0..20).map(|i| format!("exp_{i:02}")).collect();
    let groups = [SeatGroup {
        specialty: "A".to_owned(),
        region: None,
        count: 5,
    }];
    let seatable = experts
        .iter()
        .map(|id| {
            (
                id.clone(),
                tenderhall_model::expert::draw::Seatable {
                    expert_id: id.clone(),
                    employer: format!("employer of {id}"),
                    fills: vec![0],
                },
            )
        })
        .collect();
    let draws = 20_000u32;
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    for i in 0..draws {
        let secret = ring::digest::digest(&ring::digest::SHA256, &i.to_be_bytes());
        let ranking = rank(secret.as_ref(), "head:1:00", &experts);
        for (id, _) in seat(&groups, 0, &ranking, &seatable, &BTreeMap::new()).to_invite {
            *counts.entry(id).or_default() += 1;
        }
    }
    let expected = f64::from(draws) * 5.0 / 20.0;
    let chi_square: f64 = experts
        .iter()
        .map(|id| {
            let observed = f64::from(counts.get(id).copied().unwrap_or(0));
            (observed - expected).powi(2) / expected
        })
        .sum();
    assert!(
        chi_square < 43.82,
        "chi-square {chi_square:.2} over {counts:?}"
    );
}
