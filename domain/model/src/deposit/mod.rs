//! What money does (实施条例 Art 26, 31, 35, 40; docs/spec/rules.md "Money"): where a bank payment
//! goes, when a document fee is earned, what is refunded as overpaid, which payers are flagged, a
//! deposit's status at the deadline and the interest on a refund, decided from loaded amounts.

pub mod batch;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::state::{AccountKind, AccountStatus};

/// A deposit's state as of the bid deadline (the opening record and evaluation read it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositStatus {
    Paid,
    Partial,
    Unpaid,
    /// An electronic guarantee (保函) stands in for the cash.
    Guarantee,
}

impl DepositStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Partial => "partial",
            Self::Unpaid => "unpaid",
            Self::Guarantee => "guarantee",
        }
    }

    /// From the amount credited before the deadline and the amount due.
    pub fn from_amounts(credited_fen: i64, due_fen: i64) -> Self {
        if credited_fen >= due_fen {
            Self::Paid
        } else if credited_fen > 0 {
            Self::Partial
        } else {
            Self::Unpaid
        }
    }
}

/// Interest on a refund: principal × annual rate × days / 360, rounded half-up to the fen (docs/spec/api-contract.md;
/// banking practice counts a 360-day year).
pub fn refund_interest(principal_fen: i64, annual_rate: Decimal, days: i64) -> i64 {
    if principal_fen <= 0 || days <= 0 || annual_rate <= Decimal::ZERO {
        return 0;
    }
    let interest =
        Decimal::from(principal_fen) * annual_rate * Decimal::from(days) / Decimal::from(360);
    interest
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .try_into()
        .unwrap_or(0)
}

/// Where a bank payment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Booked to the virtual account it names.
    Credit,
    /// Held for an operator: the account is unknown or closed, or the currency is not its own.
    /// Never lost, never credited to anybody by guess.
    Suspense,
}

/// A payment into `account` (its status and currency, `None` when no such account exists) in
/// `currency`.
pub fn disposition(account: Option<(AccountStatus, &str)>, currency: &str) -> Disposition {
    match account {
        Some((AccountStatus::Open, own)) if own == currency => Disposition::Credit,
        _ => Disposition::Suspense,
    }
}

/// One account a batch of payments paid into, as its settlement needs it (amounts in fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidAccount {
    pub kind: AccountKind,
    /// The deposit due, or the document fee.
    pub amount_due_fen: i64,
    /// What the account held before the batch.
    pub held_before_fen: i64,
    /// What the batch paid into it.
    pub paid_now_fen: i64,
    /// For a fee account: the fee was earned before.
    pub fee_earned: bool,
}

/// What settling an account after a batch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// The document fee moved to the tender's fee income now (0: nothing to earn).
    pub earn_fee_fen: i64,
    /// What the account may keep afterwards: a deposit its amount due, an earned fee account nothing.
    pub keep_fen: i64,
    /// Paid beyond what it may keep: refunded within 5 days (docs/spec/rules.md "Money").
    pub excess_fen: i64,
}

/// 实施条例 Art 16, 26: a deposit account keeps what is due and refunds what is paid beyond it; a
/// fee account, once it holds the whole fee, earns it (once) and refunds what is beyond it; until
/// then it keeps every instalment.
pub fn settle(account: &PaidAccount) -> Settlement {
    let held = account.held_before_fen + account.paid_now_fen;
    let (earn_fee_fen, keep_fen, held) = match account.kind {
        AccountKind::Deposit => (0, account.amount_due_fen, held),
        AccountKind::Fee if account.fee_earned => (0, 0, held),
        AccountKind::Fee if account.amount_due_fen > 0 && held >= account.amount_due_fen => {
            (account.amount_due_fen, 0, held - account.amount_due_fen)
        }
        // Not paid in full yet: everything stays, to be earned or refunded later.
        AccountKind::Fee => (0, held.max(0), held),
    };
    Settlement {
        earn_fee_fen,
        keep_fen,
        excess_fen: (held - keep_fen).max(0),
    }
}

/// 实施条例 Art 26: a deposit is paid from the bidder's basic account; paid from another (or with
/// none registered), it is flagged `payer_mismatch` to the supervisors.
pub fn payer_mismatch(basic_account: Option<&str>, payer: &str) -> bool {
    basic_account != Some(payer)
}

/// 实施条例 Art 40: one payer account paying the deposits of two different bidders of one tender
/// flags both (`shared_payer`).
pub fn shared_payer(
    (payer_a, tender_a, bidder_a): (&str, &str, &str),
    (payer_b, tender_b, bidder_b): (&str, &str, &str),
) -> bool {
    payer_a == payer_b && tender_a == tender_b && bidder_a != bidder_b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deposit(due: i64, before: i64, now: i64) -> PaidAccount {
        PaidAccount {
            kind: AccountKind::Deposit,
            amount_due_fen: due,
            held_before_fen: before,
            paid_now_fen: now,
            fee_earned: false,
        }
    }

    fn fee(due: i64, before: i64, now: i64, earned: bool) -> PaidAccount {
        PaidAccount {
            kind: AccountKind::Fee,
            fee_earned: earned,
            ..deposit(due, before, now)
        }
    }

    #[test]
    fn crediting_a_payment_needs_an_open_account_in_its_currency() {
        assert_eq!(
            disposition(Some((AccountStatus::Open, "CNY")), "CNY"),
            Disposition::Credit
        );
        assert_eq!(
            disposition(Some((AccountStatus::Closed, "CNY")), "CNY"),
            Disposition::Suspense
        );
        assert_eq!(disposition(None, "CNY"), Disposition::Suspense);
        assert_eq!(
            disposition(Some((AccountStatus::Open, "CNY")), "USD"),
            Disposition::Suspense
        );
    }

    #[test]
    fn overpayment_a_deposit_keeps_what_is_due_and_refunds_the_rest() {
        assert_eq!(
            settle(&deposit(200_000, 150_000, 100_000)).excess_fen,
            50_000
        );
        assert_eq!(settle(&deposit(200_000, 0, 200_000)).excess_fen, 0);
        // Instalments below the amount due stay.
        assert_eq!(settle(&deposit(200_000, 50_000, 50_000)).excess_fen, 0);
    }

    #[test]
    fn fee_earning_art_16_a_fee_paid_in_full_is_earned_once_and_the_rest_refunded() {
        let s = settle(&fee(30_000, 10_000, 30_000, false));
        assert_eq!((s.earn_fee_fen, s.excess_fen), (30_000, 10_000));
        // Not in full yet: nothing earned, nothing refunded.
        let s = settle(&fee(30_000, 10_000, 10_000, false));
        assert_eq!((s.earn_fee_fen, s.excess_fen), (0, 0));
        // Earned before: a later payment is all excess.
        let s = settle(&fee(30_000, 0, 5_000, true));
        assert_eq!((s.earn_fee_fen, s.excess_fen), (0, 5_000));
        // A free document earns nothing.
        assert_eq!(settle(&fee(0, 0, 5_000, false)).earn_fee_fen, 0);
    }

    #[test]
    fn art_26_a_deposit_from_another_account_than_the_basic_one_is_flagged() {
        assert!(!payer_mismatch(
            Some("6222020012345678"),
            "6222020012345678"
        ));
        assert!(payer_mismatch(Some("6222020012345678"), "6228480000000001"));
        assert!(payer_mismatch(None, "6222020012345678"));
    }

    #[test]
    fn art_40_one_payer_for_two_bidders_of_one_tender_is_flagged() {
        let a = ("6228", "tnd_1", "org_a");
        assert!(shared_payer(a, ("6228", "tnd_1", "org_b")));
        assert!(!shared_payer(a, ("6228", "tnd_1", "org_a")));
        assert!(!shared_payer(a, ("6228", "tnd_2", "org_b")));
        assert!(!shared_payer(a, ("6229", "tnd_1", "org_b")));
    }

    #[test]
    fn refund_interest_counts_a_360_day_year_rounded_half_up_to_the_fen() {
        // 10,000.00 CNY at 0.35 % for 30 days: 1,000,000 × 0.0035 × 30 / 360 = 291.666… fen.
        assert_eq!(refund_interest(1_000_000, Decimal::new(35, 4), 30), 292);
        // 0.5 fen rounds up.
        assert_eq!(refund_interest(360, Decimal::new(5, 1), 1), 1);
        assert_eq!(refund_interest(1_000_000, Decimal::new(35, 4), 0), 0);
    }

    #[test]
    fn deposit_status_as_of_the_deadline() {
        assert_eq!(DepositStatus::from_amounts(2000, 2000), DepositStatus::Paid);
        assert_eq!(DepositStatus::from_amounts(2500, 2000), DepositStatus::Paid);
        assert_eq!(DepositStatus::from_amounts(1, 2000), DepositStatus::Partial);
        assert_eq!(DepositStatus::from_amounts(0, 2000), DepositStatus::Unpaid);
    }
}
