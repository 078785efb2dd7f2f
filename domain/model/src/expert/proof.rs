//! The proof of a draw and its offline check (docs/spec/draws.md "The proof"): everything needed to
//! recompute the commitment, the eligibility order, the ranking and the seats, and `verify`, which
//! does it and names the first part that differs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Exclusion;
use super::draw::{Answer, SeatGroup, Seatable, commitment, rank, seat};

/// A left-out expert and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    pub expert_id: String,
    pub reason: String,
}

/// The proof of a draw (docs/spec/draws.md), as `GET /api/v1/draws/{draw_id}/proof` answers it. The
/// fields before `seats` are the fixed API's; the rest let anyone replay the seating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub draw_id: String,
    pub commitment: String,
    pub public_input: Option<String>,
    /// Lowercase hex of the 32 secret bytes; `null` until the committee is complete.
    pub secret: Option<String>,
    /// Lowercase hex SHA-256 of the pool snapshot the draw committed to.
    pub pool_hash: String,
    pub eligible: Vec<String>,
    pub excluded: Vec<Excluded>,
    pub ranking: Vec<String>,
    pub accepted: Vec<String>,
    /// The seats asked for.
    pub seats: Vec<SeatGroup>,
    pub reserves: u32,
    /// Each eligible expert's employer and the groups it can fill.
    pub seatable: Vec<Seatable>,
    /// Every invitation's answer, by expert.
    pub answers: BTreeMap<String, Answer>,
}

/// The first part of a proof that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The secret is not revealed yet: nothing past the commitment can be checked.
    SecretNotRevealed,
    /// The secret is not 32 bytes of lowercase hex.
    SecretMalformed,
    /// SHA-256 of the secret is not the commitment.
    Commitment,
    /// `eligible` is not sorted by id, holds an id twice, or names an excluded expert.
    Eligible(String),
    /// An exclusion names an unknown reason.
    Excluded(String),
    /// The ranking is not the eligible experts sorted by their scores: the first place that differs.
    Ranking { position: usize, expected: String },
    /// `seatable` does not describe exactly the eligible experts.
    Seatable(String),
    /// The accepted experts are not the ones the walk down the ranking seats.
    Accepted { expected: Vec<String> },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SecretNotRevealed => f.write_str("the secret is not revealed yet (the committee is not complete): only the commitment can be checked later"),
            Self::SecretMalformed => f.write_str("`secret` is not 64 lowercase hex digits"),
            Self::Commitment => f.write_str("`commitment` is not SHA-256 of `secret`"),
            Self::Eligible(why) => write!(f, "`eligible`: {why}"),
            Self::Excluded(why) => write!(f, "`excluded`: {why}"),
            Self::Ranking { position, expected } => write!(
                f,
                "`ranking` differs at position {position}: the scores put `{expected}` there"
            ),
            Self::Seatable(why) => write!(f, "`seatable`: {why}"),
            Self::Accepted { expected } => write!(
                f,
                "`accepted` is not what the walk down the ranking seats: {}",
                expected.join(", ")
            ),
        }
    }
}

/// Recomputes a proof from itself alone: the commitment, the eligibility order, the ranking and
/// the seats. `Ok` when everything holds.
pub fn verify(proof: &Proof) -> Result<(), Mismatch> {
    let secret_hex = proof.secret.as_deref().ok_or(Mismatch::SecretNotRevealed)?;
    let secret = hex::decode(secret_hex)
        .ok()
        .filter(|s| s.len() == 32 && secret_hex.bytes().all(|b| !b.is_ascii_uppercase()))
        .ok_or(Mismatch::SecretMalformed)?;
    if commitment(&secret) != proof.commitment {
        return Err(Mismatch::Commitment);
    }
    if let Some(pair) = proof.eligible.windows(2).find(|w| w[0] >= w[1]) {
        return Err(Mismatch::Eligible(format!(
            "not in ascending order of id at `{}`, `{}`",
            pair[0], pair[1]
        )));
    }
    for excluded in &proof.excluded {
        if Exclusion::parse(&excluded.reason).is_none() {
            return Err(Mismatch::Excluded(format!(
                "unknown reason `{}`",
                excluded.reason
            )));
        }
        if proof.eligible.binary_search(&excluded.expert_id).is_ok() {
            return Err(Mismatch::Eligible(format!(
                "`{}` is also excluded",
                excluded.expert_id
            )));
        }
    }
    let public_input = proof.public_input.as_deref().unwrap_or_default();
    let ranking = rank(&secret, public_input, &proof.eligible);
    let length = ranking.len().max(proof.ranking.len());
    if let Some(position) = (0..length).find(|i| ranking.get(*i) != proof.ranking.get(*i)) {
        return Err(Mismatch::Ranking {
            position,
            expected: ranking.get(position).cloned().unwrap_or_else(|| {
                "(nobody: the ranking is longer than the eligible list)".to_owned()
            }),
        });
    }
    let seatable: BTreeMap<String, Seatable> = proof
        .seatable
        .iter()
        .map(|s| (s.expert_id.clone(), s.clone()))
        .collect();
    if seatable.len() != proof.seatable.len() || !seatable.keys().eq(proof.eligible.iter()) {
        return Err(Mismatch::Seatable(
            "it must name each eligible expert once".to_owned(),
        ));
    }
    if let Some(bad) = proof
        .seatable
        .iter()
        .find(|s| s.fills.iter().any(|g| *g >= proof.seats.len()))
    {
        return Err(Mismatch::Seatable(format!(
            "`{}` fills a group that was not asked for",
            bad.expert_id
        )));
    }
    let seating = seat(
        &proof.seats,
        proof.reserves,
        &ranking,
        &seatable,
        &proof.answers,
    );
    let expected: Vec<String> = seating
        .seated
        .iter()
        .filter(|(_, _, answer)| *answer == Answer::Accepted)
        .map(|(id, _, _)| id.clone())
        .collect();
    if expected != proof.accepted {
        return Err(Mismatch::Accepted { expected });
    }
    Ok(())
}
