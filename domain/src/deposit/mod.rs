//! Deposits and document fees paid online (投标保证金、文件费): virtual sub-accounts (虚拟子账号), the
//! bank's signed notifications, and a double-entry ledger in which every movement is a balanced
//! journal entry and every balance is derived from entries.
//!
//! Pure here: account numbers, the notification's signature and time window, the ledger's account
//! names and its balance rule, the deposit status, refund interest.

pub mod service;
pub mod store;

use chrono::{DateTime, Utc};
use ring::rand::SecureRandom;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::error::{DomainError, ErrorCode, Text};
use crate::money::{Currency, Money};

/// The platform's virtual sub-accounts all start with this (the collecting bank assigns it).
pub const ACCOUNT_PREFIX: &str = "955880";
/// Prefix + 11 random digits + 1 check digit.
pub const ACCOUNT_LEN: usize = 18;

/// The Luhn check digit of `digits`.
fn luhn_check_digit(digits: &str) -> Option<u32> {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let mut d = c.to_digit(10)?;
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    Some((10 - sum % 10) % 10)
}

/// A fresh virtual account number: random, never sequential, so a number tells nothing of how many
/// bidders registered (docs/spec/visibility.md), with a Luhn check digit that catches a mistyped
/// digit or two swapped neighbours in a payment.
pub fn new_account_no(rng: &dyn SecureRandom) -> Result<String, DomainError> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes)
        .map_err(|_| DomainError::internal("no randomness"))?;
    let n = u128::from_le_bytes(bytes) % 100_000_000_000;
    let body = format!("{ACCOUNT_PREFIX}{n:011}");
    let check = luhn_check_digit(&body).ok_or_else(|| DomainError::internal("bad digits"))?;
    Ok(format!("{body}{check}"))
}

/// Whether `s` is one of the platform's account numbers (prefix, length, check digit).
pub fn is_account_no(s: &str) -> bool {
    s.len() == ACCOUNT_LEN
        && s.starts_with(ACCOUNT_PREFIX)
        && s.bytes().all(|b| b.is_ascii_digit())
        && luhn_check_digit(&s[..ACCOUNT_LEN - 1])
            .zip(
                s[ACCOUNT_LEN - 1..]
                    .chars()
                    .next()
                    .and_then(|c| c.to_digit(10)),
            )
            .is_some_and(|(want, got)| want == got)
}

/// The deposit settings of a deployment, parsed once at start (`TENDERHALL_DEPOSIT_INTEREST_RATE`,
/// `TENDERHALL_MAX_NOTIFICATION_AMOUNT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepositSettings {
    /// The annual rate of interest on refunded deposits (days / 360, rules.md "Money").
    pub interest_rate: Decimal,
    /// The largest amount one bank notification may carry, in fen: a larger one is refused with
    /// 422 before anything is recorded (a mistyped or forged amount, and a bound that keeps the
    /// ledger's sums far from overflow).
    pub max_notification_fen: i64,
}

impl DepositSettings {
    /// 0.35 % a year, the PBoC demand-deposit benchmark rate.
    pub const DEFAULT_INTEREST_RATE: Decimal = Decimal::from_parts(35, 0, 0, false, 4);
    /// 10,000,000,000.00 CNY: above the largest deposit a land-use sale asks (a fifth of a start
    /// price in the tens of billions).
    pub const DEFAULT_MAX_NOTIFICATION_FEN: i64 = 1_000_000_000_000;
}

impl Default for DepositSettings {
    fn default() -> Self {
        Self {
            interest_rate: Self::DEFAULT_INTEREST_RATE,
            max_notification_fen: Self::DEFAULT_MAX_NOTIFICATION_FEN,
        }
    }
}

/// A bank notification is accepted for this long either side of server time (docs/spec/api-contract.md).
pub const NOTIFICATION_WINDOW_SECONDS: i64 = 300;

/// Why a notification was refused before anything was read from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    BadSignature,
    StaleTimestamp,
}

/// Checks `X-Bank-Signature` (lowercase hex HMAC-SHA256 over `{timestamp}.{raw body}`, in constant
/// time) and `X-Bank-Timestamp` (unix seconds, within 5 minutes of `now` either way).
pub fn verify_notification(
    secret: &[u8],
    timestamp: &str,
    signature_hex: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let signature = hex::decode(signature_hex.trim()).map_err(|_| SignatureError::BadSignature)?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut message = Vec::with_capacity(timestamp.len() + 1 + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    ring::hmac::verify(&key, &message, &signature).map_err(|_| SignatureError::BadSignature)?;
    // Checked after the signature, so that an unsigned request learns nothing about the clock.
    let at = canonical_unix_seconds(timestamp).ok_or(SignatureError::StaleTimestamp)?;
    // `abs_diff` cannot overflow: a timestamp near i64::MIN must not wrap into the window.
    if now.timestamp().abs_diff(at) > NOTIFICATION_WINDOW_SECONDS.unsigned_abs() {
        return Err(SignatureError::StaleTimestamp);
    }
    Ok(())
}

/// Unix seconds written the one canonical way: decimal digits, no sign, no leading zero, no
/// padding. Anything else (`+1`, ` 1`, `01`) is another string over which the bank signed, so it is
/// refused rather than read as the same time.
fn canonical_unix_seconds(text: &str) -> Option<i64> {
    let canonical = !text.is_empty()
        && text.len() <= 18
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// Signs a notification body as the bank does (the sandbox bank, tests, the benchmark).
pub fn sign_notification(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    hex::encode(ring::hmac::sign(&key, &message).as_ref())
}

/// A bank notification as sent (docs/spec/api-contract.md "Deposits and fees").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationBody {
    pub bank_txn_id: String,
    pub account_no: String,
    pub amount: String,
    pub currency: Option<String>,
    pub paid_at: DateTime<Utc>,
    pub payer_name: String,
    pub payer_account: String,
}

/// A notification whose fields passed their checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub bank_txn_id: String,
    pub account_no: String,
    pub amount: Money,
    pub paid_at: DateTime<Utc>,
    pub payer_name: String,
    pub payer_account: String,
}

impl NotificationBody {
    /// The payment this body describes, refused with the field named when a value breaks a rule or
    /// the amount is above `max_fen`.
    pub fn validate(self, max_fen: i64) -> Result<Payment, DomainError> {
        let currency: Currency = self.currency.as_deref().unwrap_or("CNY").parse().map_err(
            |e: crate::money::MoneyError| {
                DomainError::invalid(
                    "currency",
                    format!("{e}."),
                    format!(
                        "未知币种 `{}`；可用：CNY。",
                        self.currency.as_deref().unwrap_or("")
                    ),
                )
            },
        )?;
        let amount = Money::parse(&self.amount, currency).map_err(|e| {
            DomainError::invalid(
                "amount",
                format!("`amount` {e}."),
                "`amount` 须为正的十进制金额字符串，如 \"1234.50\"。",
            )
        })?;
        if !amount.is_positive() {
            return Err(DomainError::invalid(
                "amount",
                "`amount` must be positive.",
                "`amount` 必须为正数。",
            ));
        }
        if amount.minor_units().map_or(true, |fen| fen > max_fen) {
            let max = Money::from_minor_units(max_fen, currency);
            return Err(DomainError::invalid(
                "amount",
                format!(
                    "`amount` is above the largest payment one notification may carry ({}); nothing was recorded.",
                    max.amount()
                ),
                format!(
                    "`amount` 超过单笔通知金额上限（{}），未记录。",
                    max.amount()
                ),
            ));
        }
        let text = |field: &str, value: String, max: usize| {
            let v = value.trim().to_owned();
            if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
                Err(DomainError::invalid(
                    field,
                    format!("`{field}` must be 1 to {max} characters."),
                    format!("`{field}` 须为 1 至 {max} 个字符。"),
                ))
            } else {
                Ok(v)
            }
        };
        Ok(Payment {
            bank_txn_id: text("bank_txn_id", self.bank_txn_id, 64)?,
            account_no: text("account_no", self.account_no, 64)?,
            amount,
            paid_at: self.paid_at,
            payer_name: text("payer_name", self.payer_name, 200)?,
            payer_account: text("payer_account", self.payer_account, 64)?,
        })
    }
}

/// The ledger's accounts. Amounts on postings are signed fen: debits positive, credits negative;
/// every journal entry sums to zero.
pub mod accounts {
    /// Money at the collecting bank (an asset: debit-normal).
    pub const BANK: &str = "bank";
    /// Payments to an account the platform does not know, or no longer takes (a liability).
    pub const SUSPENSE: &str = "suspense";
    /// Interest the collecting account earned on deposits, owed to the bidders until refunded with
    /// them (a liability: credit-normal).
    pub const INTEREST: &str = "interest";

    /// What the platform owes a bidder on one virtual account (a liability: credit-normal).
    pub fn deposit(account_no: &str) -> String {
        format!("deposit:{account_no}")
    }

    /// What an organization has paid into its document fee account and not yet earned as the fee
    /// (a liability: credit-normal).
    pub fn fee_account(account_no: &str) -> String {
        format!("fee:{account_no}")
    }

    /// Document fees earned for a tender (income: credit-normal).
    pub fn fee_income(tender_id: &str) -> String {
        format!("fee_income:{tender_id}")
    }

    /// Auction deposits applied toward the price the winner owes the seller (docs/auctions.md).
    pub fn sale_proceeds(tender_id: &str) -> String {
        format!("proceeds:{tender_id}")
    }

    /// Deposits forfeited to the tenderer of a tender (实施条例 Art 35, 74).
    pub fn forfeited(tender_id: &str) -> String {
        format!("forfeited:{tender_id}")
    }

    /// Refunds instructed and not yet confirmed by the bank (a liability).
    pub fn refunds_pending(refund_id: &str) -> String {
        format!("refund:{refund_id}")
    }
}

pub use tenderhall_model::deposit::{DepositStatus, refund_interest};

/// Why a notification was refused, for the API's problem codes.
pub fn signature_problem(e: SignatureError) -> (ErrorCode, Text) {
    match e {
        SignatureError::BadSignature => (
            ErrorCode::BadBankSignature,
            Text::new(
                "X-Bank-Signature is not the HMAC-SHA256 of `{X-Bank-Timestamp}.{body}` under the bank secret.",
                "X-Bank-Signature 不是以银行密钥对 `{X-Bank-Timestamp}.{请求体}` 计算的 HMAC-SHA256。",
            ),
        ),
        SignatureError::StaleTimestamp => (
            ErrorCode::StaleTimestamp,
            Text::new(
                "X-Bank-Timestamp is more than 5 minutes away from the platform's clock.",
                "X-Bank-Timestamp 与平台时间相差超过 5 分钟。",
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn account_numbers_are_random_with_a_check_digit() {
        let rng = SystemRandom::new();
        let a = new_account_no(&rng).unwrap_or_default();
        let b = new_account_no(&rng).unwrap_or_default();
        assert_ne!(a, b);
        assert!(is_account_no(&a) && is_account_no(&b), "{a} {b}");
        assert_eq!(a.len(), ACCOUNT_LEN);
        // One digit wrong, or two neighbours swapped: caught.
        let mut wrong: Vec<u8> = a.clone().into_bytes();
        wrong[10] = if wrong[10] == b'9' {
            b'0'
        } else {
            wrong[10] + 1
        };
        assert!(!is_account_no(
            &String::from_utf8(wrong).unwrap_or_default()
        ));
        let mut swapped: Vec<u8> = "955880123456789010".to_owned().into_bytes();
        let check = luhn_check_digit("95588012345678901").unwrap_or(0);
        swapped[17] = b'0' + check as u8;
        assert!(is_account_no(
            &String::from_utf8(swapped.clone()).unwrap_or_default()
        ));
        swapped.swap(8, 9);
        assert!(!is_account_no(
            &String::from_utf8(swapped).unwrap_or_default()
        ));
    }

    #[test]
    fn notifications_are_signed_over_timestamp_and_body_within_five_minutes() {
        let now = Utc::now();
        let ts = now.timestamp().to_string();
        let body = br#"{"bank_txn_id":"T1"}"#;
        let sig = sign_notification(b"secret", now.timestamp(), body);
        assert_eq!(verify_notification(b"secret", &ts, &sig, body, now), Ok(()));
        assert_eq!(
            verify_notification(b"other", &ts, &sig, body, now),
            Err(SignatureError::BadSignature)
        );
        assert_eq!(
            verify_notification(b"secret", &ts, &sig, br#"{"bank_txn_id":"T2"}"#, now),
            Err(SignatureError::BadSignature)
        );
        for skew in [-301, 301] {
            let at = now.timestamp() + skew;
            let sig = sign_notification(b"secret", at, body);
            assert_eq!(
                verify_notification(b"secret", &at.to_string(), &sig, body, now),
                Err(SignatureError::StaleTimestamp)
            );
        }
    }

    #[test]
    fn a_timestamp_far_in_the_past_never_wraps_into_the_window() {
        let now = Utc::now();
        let body = br#"{"bank_txn_id":"T1"}"#;
        // i64::MIN + now: `now - at` overflows, and wrapped it looked like zero seconds off.
        let at = i64::MIN.wrapping_add(now.timestamp());
        let sig = sign_notification(b"secret", at, body);
        assert_eq!(
            verify_notification(b"secret", &at.to_string(), &sig, body, now),
            Err(SignatureError::StaleTimestamp)
        );
    }

    #[test]
    fn only_canonical_decimal_timestamps_are_accepted() {
        let now = Utc::now();
        let body = br#"{"bank_txn_id":"T1"}"#;
        let ts = now.timestamp();
        for written in [
            format!("+{ts}"),
            format!(" {ts}"),
            format!("0{ts}"),
            format!("{ts} "),
        ] {
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret");
            let mut message = format!("{written}.").into_bytes();
            message.extend_from_slice(body);
            let sig = hex::encode(ring::hmac::sign(&key, &message).as_ref());
            assert_eq!(
                verify_notification(b"secret", &written, &sig, body, now),
                Err(SignatureError::StaleTimestamp),
                "{written:?}"
            );
        }
    }
}
