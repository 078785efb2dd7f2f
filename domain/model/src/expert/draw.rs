//! The verifiable draw (docs/spec/draws.md): the platform commits to `SHA-256(secret)` before
//! anything it cannot choose is known (`public_input`); each eligible expert's score is
//! `HMAC-SHA256(secret ‖ public_input, expert_id)`; the ranking is the eligible experts by score,
//! bytes ascending; seats go down the ranking in order. Anyone holding the proof recomputes all of
//! it ([`verify`]) once the secret is revealed.

use std::collections::{BTreeMap, HashSet};

use ring::{digest, hmac};
use serde::{Deserialize, Serialize};

use super::Specialty;
pub use super::proof::{Excluded, Mismatch, Proof, verify};

/// Lowercase hex SHA-256 of the secret's bytes: what the platform publishes before the draw.
pub fn commitment(secret: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, secret))
}

/// The HMAC key: the secret's bytes followed by the UTF-8 bytes of `public_input`.
fn ranking_key(secret: &[u8], public_input: &str) -> hmac::Key {
    let mut key = Vec::with_capacity(secret.len() + public_input.len());
    key.extend_from_slice(secret);
    key.extend_from_slice(public_input.as_bytes());
    hmac::Key::new(hmac::HMAC_SHA256, &key)
}

/// The eligible experts in ranking order: by `HMAC-SHA256(secret ‖ public_input, expert_id)`,
/// bytes compared ascending (a tie, which SHA-256 makes as likely as a collision, by id).
pub fn rank<S: AsRef<str> + Sync>(
    secret: &[u8],
    public_input: &str,
    eligible: &[S],
) -> Vec<String> {
    let key = ranking_key(secret, public_input);
    let score = |ids: &[S]| -> Vec<([u8; 32], usize)> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| {
                let tag = hmac::sign(&key, id.as_ref().as_bytes());
                let mut score = [0u8; 32];
                score.copy_from_slice(tag.as_ref());
                (score, i)
            })
            .collect()
    };
    // A large pool is scored on every core: the scores are the draw's main cost.
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut scored: Vec<([u8; 32], usize)> = if threads > 1 && eligible.len() >= PARALLEL_FROM {
        let chunk = eligible.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = eligible
                .chunks(chunk)
                .enumerate()
                .map(|(n, part)| {
                    let score = &score;
                    scope.spawn(move || {
                        let mut scored = score(part);
                        for (_, i) in &mut scored {
                            *i += n * chunk;
                        }
                        scored
                    })
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|part| part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    } else {
        score(eligible)
    };
    scored.sort_unstable();
    scored
        .into_iter()
        .map(|(_, i)| eligible[i].as_ref().to_owned())
        .collect()
}

/// From this many eligible experts on, the scores are computed on every core.
const PARALLEL_FROM: usize = 4096;

/// A group of seats of a draw request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatGroup {
    pub specialty: String,
    /// A region code the experts must be registered in; `None`: anywhere.
    #[serde(default)]
    pub region: Option<String>,
    pub count: u32,
}

/// An eligible expert as the seating reads it: the groups it can fill (indexes into the request's
/// groups) and its employer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seatable {
    pub expert_id: String,
    pub employer: String,
    pub fills: Vec<usize>,
}

/// The seat groups of a request with their codes parsed once, for matching a whole pool.
pub struct Wanted<'a> {
    groups: Vec<(Option<Specialty>, Option<&'a str>)>,
}

impl<'a> Wanted<'a> {
    pub fn new(groups: &'a [SeatGroup]) -> Self {
        Self {
            groups: groups
                .iter()
                .map(|g| (Specialty::parse(&g.specialty), g.region.as_deref()))
                .collect(),
        }
    }

    /// The groups an expert of `specialties` in `region` can fill, in request order.
    pub fn filled_by(&self, specialties: &[Specialty], region: &str) -> Vec<usize> {
        self.groups
            .iter()
            .enumerate()
            .filter(|(_, (wanted, wanted_region))| {
                wanted_region.is_none_or(|r| r == region)
                    && wanted
                        .as_ref()
                        .is_some_and(|wanted| specialties.iter().any(|s| s.fills(wanted)))
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// The groups an expert of `specialties` in `region` can fill, in request order.
pub fn groups_filled(groups: &[SeatGroup], specialties: &[Specialty], region: &str) -> Vec<usize> {
    Wanted::new(groups).filled_by(specialties, region)
}

/// What an invited expert answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Invited, no answer yet, the invitation still running.
    Pending,
    Accepted,
    Declined,
    /// No answer in time (87号令 Art 49: the seat is drawn again).
    TimedOut,
    /// Accepted, then left the committee (illness, a conflict found later).
    Withdrew,
}

impl Answer {
    /// The name it is stored under.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::TimedOut => "timed_out",
            Self::Withdrew => "withdrew",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Accepted,
            Self::Declined,
            Self::TimedOut,
            Self::Withdrew,
        ]
        .into_iter()
        .find(|a| a.as_str() == name)
    }

    /// Holds a seat (accepted, or invited and not yet answered).
    fn holds_seat(self) -> bool {
        matches!(self, Self::Accepted | Self::Pending)
    }
}

/// Where the walk down the ranking stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seating {
    /// Seats held, in ranking order: (expert, group, answer: accepted or pending).
    pub seated: Vec<(String, usize, Answer)>,
    /// Experts to invite now (reached by the walk, never invited), with the group they would fill.
    pub to_invite: Vec<(String, usize)>,
    /// Passed over, in ranking order, and why: another of their employer holds a seat.
    pub same_employer: Vec<String>,
    /// The next experts after the seats, up to the reserves asked for: invited in this order when
    /// a seat frees up.
    pub reserves: Vec<String>,
    /// Seats that no eligible expert is left to fill.
    pub unfillable: u32,
}

/// Walks `ranking` (ids of `seatable`) with the answers so far: each expert takes a seat in the
/// first group, in request order, that it fills and that has room, unless an expert of its employer
/// holds a seat already; one who declined, timed out or withdrew is passed over; one reached but
/// never invited is to be invited. Deterministic in its inputs, so the proof replays it.
pub fn seat(
    groups: &[SeatGroup],
    reserves: u32,
    ranking: &[String],
    seatable: &BTreeMap<String, Seatable>,
    answers: &BTreeMap<String, Answer>,
) -> Seating {
    let mut room: Vec<u32> = groups.iter().map(|g| g.count).collect();
    let mut employers: HashSet<&str> = HashSet::new();
    let mut seating = Seating::default();
    for id in ranking {
        // Every seat held and every reserve named: the rest of the ranking changes nothing.
        if seating.reserves.len() >= reserves as usize && room.iter().all(|r| *r == 0) {
            break;
        }
        let Some(expert) = seatable.get(id) else {
            continue;
        };
        let answer = answers.get(id).copied();
        if answer.is_some_and(|a| !a.holds_seat()) {
            continue;
        }
        let Some(group) = expert
            .fills
            .iter()
            .copied()
            .find(|g| room.get(*g) > Some(&0))
        else {
            if room.iter().all(|r| *r == 0)
                && answer.is_none()
                && seating.reserves.len() < reserves as usize
                && !employers.contains(expert.employer.as_str())
            {
                seating.reserves.push(id.clone());
            }
            continue;
        };
        if employers.contains(expert.employer.as_str()) {
            seating.same_employer.push(id.clone());
            continue;
        }
        employers.insert(&expert.employer);
        room[group] -= 1;
        match answer {
            Some(answer) => seating.seated.push((id.clone(), group, answer)),
            None => seating.to_invite.push((id.clone(), group)),
        }
    }
    seating.unfillable = room.iter().sum();
    seating
}

#[cfg(test)]
// Tests: a failed unwrap is a failed test.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn group(specialty: &str, count: u32) -> SeatGroup {
        SeatGroup {
            specialty: specialty.to_owned(),
            region: None,
            count,
        }
    }

    fn seatable(id: &str, employer: &str, fills: &[usize]) -> (String, Seatable) {
        (
            id.to_owned(),
            Seatable {
                expert_id: id.to_owned(),
                employer: employer.to_owned(),
                fills: fills.to_vec(),
            },
        )
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_commitment_is_sha256_of_the_secret_bytes_in_lowercase_hex() {
        // SHA-256 of 32 zero bytes.
        assert_eq!(
            commitment(&[0u8; 32]),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
    }

    #[test]
    fn the_ranking_sorts_by_hmac_of_the_id_under_secret_and_public_input() {
        let secret = [7u8; 32];
        let eligible = ids(&["exp_a", "exp_b", "exp_c", "exp_d"]);
        let ranking = rank(&secret, "opening:abc", &eligible);
        let key = ranking_key(&secret, "opening:abc");
        let scores: Vec<Vec<u8>> = ranking
            .iter()
            .map(|id| hmac::sign(&key, id.as_bytes()).as_ref().to_vec())
            .collect();
        assert!(scores.windows(2).all(|w| w[0] < w[1]));
        // Another public input, another order (for these ids and this secret).
        assert_ne!(rank(&secret, "opening:abd", &eligible), ranking);
        // The order does not depend on the order the ids came in.
        let mut reversed = eligible.clone();
        reversed.reverse();
        assert_eq!(rank(&secret, "opening:abc", &reversed), ranking);
    }

    #[test]
    fn seats_go_down_the_ranking_one_per_employer_passing_over_who_declined() {
        let groups = [group("A01", 2), group("B", 1)];
        let seatable: BTreeMap<String, Seatable> = [
            seatable("e1", "X", &[0]),
            seatable("e2", "X", &[0]),
            seatable("e3", "Y", &[0, 1]),
            seatable("e4", "Z", &[1]),
            seatable("e5", "W", &[0, 1]),
            seatable("e6", "V", &[0]),
        ]
        .into();
        let ranking = ids(&["e1", "e2", "e3", "e4", "e5", "e6"]);
        let first = seat(&groups, 1, &ranking, &seatable, &BTreeMap::new());
        // e2 shares e1's employer; e3 takes A01's second seat, e4 the B seat; e5 is the reserve.
        assert_eq!(
            first.to_invite,
            [
                ("e1".to_owned(), 0),
                ("e3".to_owned(), 0),
                ("e4".to_owned(), 1)
            ]
        );
        assert_eq!(first.same_employer, ["e2"]);
        assert_eq!(first.reserves, ["e5"]);
        assert_eq!(first.unfillable, 0);

        // e1 declines: e2 (same employer, now free) takes the seat; e4 times out: e5 takes B.
        let answers: BTreeMap<String, Answer> = [
            ("e1".to_owned(), Answer::Declined),
            ("e3".to_owned(), Answer::Accepted),
            ("e4".to_owned(), Answer::TimedOut),
        ]
        .into();
        let second = seat(&groups, 0, &ranking, &seatable, &answers);
        assert_eq!(
            second.to_invite,
            [("e2".to_owned(), 0), ("e5".to_owned(), 1)]
        );
        assert_eq!(second.seated, [("e3".to_owned(), 0, Answer::Accepted)]);
    }

    #[test]
    fn a_pool_too_small_leaves_seats_unfillable() {
        let groups = [group("A", 3)];
        let seatable: BTreeMap<String, Seatable> =
            [seatable("e1", "X", &[0]), seatable("e2", "Y", &[0])].into();
        let s = seat(&groups, 2, &ids(&["e1", "e2"]), &seatable, &BTreeMap::new());
        assert_eq!(s.unfillable, 1);
        assert!(s.reserves.is_empty());
    }

    fn complete_proof() -> Proof {
        let secret = [42u8; 32];
        let eligible = ids(&["e1", "e2", "e3", "e4"]);
        let ranking = rank(&secret, "head:9:abcd", &eligible);
        let seats = vec![group("A", 3)];
        let seatable: Vec<Seatable> = eligible
            .iter()
            .map(|id| Seatable {
                expert_id: id.clone(),
                employer: format!("emp-{id}"),
                fills: vec![0],
            })
            .collect();
        let mut answers = BTreeMap::new();
        answers.insert(ranking[0].clone(), Answer::Declined);
        for id in &ranking[1..] {
            answers.insert(id.clone(), Answer::Accepted);
        }
        Proof {
            draw_id: "drw_1".to_owned(),
            commitment: commitment(&secret),
            public_input: Some("head:9:abcd".to_owned()),
            secret: Some(hex::encode(secret)),
            pool_hash: "00".repeat(32),
            eligible,
            excluded: vec![Excluded {
                expert_id: "e9".to_owned(),
                reason: "employer_conflict".to_owned(),
            }],
            accepted: ranking[1..].to_vec(),
            ranking,
            seats,
            reserves: 0,
            seatable,
            answers,
        }
    }

    #[test]
    fn draw_verify_accepts_a_real_draw_and_names_what_was_changed() {
        let proof = complete_proof();
        assert_eq!(verify(&proof), Ok(()));

        let mut p = proof.clone();
        p.secret = Some(hex::encode([43u8; 32]));
        assert_eq!(verify(&p), Err(Mismatch::Commitment));

        let mut p = proof.clone();
        p.public_input = Some("head:9:abce".to_owned());
        assert!(matches!(verify(&p), Err(Mismatch::Ranking { .. })));

        let mut p = proof.clone();
        p.ranking.swap(0, 1);
        assert!(matches!(
            verify(&p),
            Err(Mismatch::Ranking { position: 0, .. })
        ));

        let mut p = proof.clone();
        p.accepted[0] = p.ranking[0].clone();
        assert!(matches!(verify(&p), Err(Mismatch::Accepted { .. })));

        let mut p = proof.clone();
        p.eligible.swap(0, 1);
        assert!(matches!(verify(&p), Err(Mismatch::Eligible(_))));

        let mut p = proof.clone();
        p.excluded[0].expert_id = "e1".to_owned();
        assert!(matches!(verify(&p), Err(Mismatch::Eligible(_))));

        let mut p = proof;
        p.secret = None;
        assert_eq!(verify(&p), Err(Mismatch::SecretNotRevealed));
    }
}
