//! K, the downward float of the mean-base family (docs/spec/evaluation.md "K"), drawn at the
//! opening from the published range by the same commit–reveal as the expert draw: the platform
//! commits to `SHA-256(secret)` when the tender is published; at the opening the public input is
//! the signed opening record's digest, which nobody could know before the bids; the index is the
//! first 8 bytes (big-endian) of `HMAC-SHA256(secret ‖ public_input, "k")` modulo the number of
//! values in the range. Anyone holding the revealed record recomputes it ([`verify`]).

use ring::{digest, hmac};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The values K may take: `min`, `min + step`, …, `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KRange {
    pub min: Decimal,
    pub max: Decimal,
    pub step: Decimal,
}

impl KRange {
    /// 0.1 %: the step of the provincial rules that publish one *(local)*.
    pub const DEFAULT_STEP: Decimal = Decimal::from_parts(1, 0, 0, false, 3);

    /// A range from 0 to under 1 whose ends are whole steps apart; the reason, in both
    /// languages, when not.
    pub fn new(min: Decimal, max: Decimal, step: Decimal) -> Result<Self, (String, String)> {
        let bad = |en: &str, zh: &str| Err((en.to_owned(), zh.to_owned()));
        if min < Decimal::ZERO || max >= Decimal::ONE || min > max {
            return bad(
                "K's range runs from k_min to k_max, with 0 ≤ k_min ≤ k_max < 1.",
                "K 的区间为 k_min 至 k_max，且 0 ≤ k_min ≤ k_max < 1。",
            );
        }
        if step <= Decimal::ZERO || step.scale() > 6 || !((max - min) % step).is_zero() {
            return bad(
                "k_step is above zero with at most 6 decimals, and k_max − k_min is a whole number of steps.",
                "k_step 须大于零、最多 6 位小数，且 k_max − k_min 为其整数倍。",
            );
        }
        let range = Self {
            min: min.normalize(),
            max: max.normalize(),
            step: step.normalize(),
        };
        if range.choices() > super::setup::MAX_K_CHOICES {
            return bad(
                "K's range offers at most 100,001 values; take a larger step.",
                "K 的取值最多 100,001 个，请加大步长。",
            );
        }
        Ok(range)
    }

    /// How many values K may take.
    pub fn choices(&self) -> u64 {
        let n = ((self.max - self.min) / self.step).trunc();
        u64::try_from(n).unwrap_or(u64::MAX).saturating_add(1)
    }

    /// The value at `index` (taken modulo the number of choices).
    pub fn value(&self, index: u64) -> Decimal {
        let i = index % self.choices().max(1);
        (self.min + self.step * Decimal::from(i)).normalize()
    }

    /// K for this secret and public input.
    pub fn pick(&self, secret: &[u8], public_input: &str) -> Decimal {
        let mut key = Vec::with_capacity(secret.len() + public_input.len());
        key.extend_from_slice(secret);
        key.extend_from_slice(public_input.as_bytes());
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), b"k");
        let mut head = [0u8; 8];
        head.copy_from_slice(&tag.as_ref()[..8]);
        self.value(u64::from_be_bytes(head))
    }
}

/// The published draw of K: re-checkable from its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KDraw {
    pub commitment: String,
    pub public_input: String,
    /// Lowercase hex of the 32-byte secret.
    pub secret: String,
    pub range: KRange,
    pub k: Decimal,
}

/// Why a K draw does not check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KMismatch {
    /// The secret is not hex, or does not hash to the commitment.
    Commitment,
    /// K is not what the secret and the public input give.
    Value,
}

/// Recomputes a draw: the secret against its commitment, then K.
pub fn verify(draw: &KDraw) -> Result<(), KMismatch> {
    let secret = hex::decode(&draw.secret).map_err(|_| KMismatch::Commitment)?;
    if commitment(&secret) != draw.commitment {
        return Err(KMismatch::Commitment);
    }
    if draw.range.pick(&secret, &draw.public_input) != draw.k.normalize() {
        return Err(KMismatch::Value);
    }
    Ok(())
}

/// Lowercase hex SHA-256 of the secret.
pub fn commitment(secret: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, secret))
}

/// The public input of a lot's K: lowercase hex SHA-256 of its signed opening record's canonical
/// bytes.
pub fn public_input(signed_record_canonical: &str) -> String {
    commitment(signed_record_canonical.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_range_counts_its_steps() {
        let r = KRange::new(d("0.01"), d("0.03"), KRange::DEFAULT_STEP).unwrap();
        assert_eq!(r.choices(), 21);
        assert_eq!(r.value(0), d("0.01"));
        assert_eq!(r.value(20), d("0.03"));
        assert_eq!(r.value(21), d("0.01"));
        assert!(KRange::new(d("0.01"), d("0.0305"), KRange::DEFAULT_STEP).is_err());
        assert!(KRange::new(d("0.03"), d("0.01"), KRange::DEFAULT_STEP).is_err());
        assert!(KRange::new(d("0"), d("1"), KRange::DEFAULT_STEP).is_err());
        let fixed = KRange::new(d("0.02"), d("0.02"), KRange::DEFAULT_STEP).unwrap();
        assert_eq!(fixed.pick(&[7; 32], "anything"), d("0.02"));
    }

    #[test]
    fn a_draw_rechecks_and_a_changed_one_does_not() {
        let range = KRange::new(d("0"), d("0.05"), d("0.001")).unwrap();
        let secret = [42u8; 32];
        let input = public_input("{\"lot\":\"L1\"}");
        let draw = KDraw {
            commitment: commitment(&secret),
            public_input: input.clone(),
            secret: hex::encode(secret),
            range,
            k: range.pick(&secret, &input),
        };
        assert_eq!(verify(&draw), Ok(()));
        let mut other = draw.clone();
        other.k = if draw.k == d("0.05") {
            d("0")
        } else {
            draw.k + d("0.001")
        };
        assert_eq!(verify(&other), Err(KMismatch::Value));
        let mut lied = draw;
        lied.secret = hex::encode([43u8; 32]);
        assert_eq!(verify(&lied), Err(KMismatch::Commitment));
    }

    #[test]
    fn every_value_of_the_range_comes_up() {
        let range = KRange::new(d("0.01"), d("0.02"), d("0.001")).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..2000u32 {
            seen.insert(range.pick(&[1; 32], &i.to_string()));
        }
        assert_eq!(seen.len(), 11);
    }
}
