//! What a batch of bank payments does, decided in one pass over what the batch read (the accounts
//! it pays into, what they hold, the payers recorded for their tenders): where each payment goes,
//! which accounts earn a fee or refund an overpayment, which payers are new and which are flagged
//! (实施条例 Art 16, 26, 40; docs/spec/rules.md "Money"). The shell in
//! `tenderhall-domain::deposit::service::bank` loads that state under the tenders' locks, asks
//! [`plan`], and writes what it returns.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{
    Disposition, PaidAccount, Settlement, disposition, payer_mismatch, settle, shared_payer,
};
use crate::state::{AccountKind, AccountStatus, FlagKind};

/// A virtual account a payment names, as read at the start of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub account_no: String,
    pub kind: AccountKind,
    pub status: AccountStatus,
    pub currency: String,
    pub tender_id: String,
    pub lot_id: String,
    pub organization_id: String,
    /// The deposit due, or the document fee.
    pub amount_due_fen: i64,
    /// What the account held before the batch.
    pub held_before_fen: i64,
    /// A fee account's fee was earned before.
    pub fee_earned: bool,
    /// The organization's registered basic account (基本账户), if any.
    pub basic_account: Option<String>,
}

/// One payment of the batch (its payer normalized).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Payment<'a> {
    pub account_no: &'a str,
    pub amount_fen: i64,
    pub currency: &'a str,
    pub payer: &'a str,
}

/// A payer recorded as having paid a deposit account of a tender.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KnownPayer {
    pub payer_account: String,
    pub account_no: String,
    pub tender_id: String,
    pub organization_id: String,
}

/// A flag for the supervisors on a deposit account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Flag {
    pub account_no: String,
    pub kind: FlagKind,
    pub payer_account: String,
    /// What happened, in words (shown to supervisors once the flag's subjects may be named).
    pub detail: String,
}

/// What the batch does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// Per payment, in order: credited to the account it names, or held in suspense.
    pub dispositions: Vec<Disposition>,
    /// The accounts paid into that earn a fee or refund an excess, in account order.
    pub settlements: Vec<(String, Settlement)>,
    /// Payers seen for the first time on a deposit account, to be recorded.
    pub new_payers: Vec<KnownPayer>,
    /// Flags to raise; a flag raised before is raised again harmlessly (stored once).
    pub flags: Vec<Flag>,
}

/// Decides a batch: `accounts` by number, `payments` in the order received, `known` the payers
/// recorded for the batch's (payer, tender) pairs.
pub fn plan(
    accounts: &HashMap<String, Account>,
    payments: &[Payment<'_>],
    known: &[KnownPayer],
) -> Plan {
    let mut plan = Plan::default();
    let mut paid_now: BTreeMap<&str, i64> = BTreeMap::new();
    let mut deposit_payers: BTreeSet<(&str, &str)> = BTreeSet::new();
    for payment in payments {
        let account = accounts.get(payment.account_no);
        let decided = disposition(
            account.map(|a| (a.status, a.currency.as_str())),
            payment.currency,
        );
        plan.dispositions.push(decided);
        if let (Disposition::Credit, Some(account)) = (decided, account) {
            *paid_now.entry(account.account_no.as_str()).or_default() += payment.amount_fen;
            if account.kind == AccountKind::Deposit {
                deposit_payers.insert((account.account_no.as_str(), payment.payer));
            }
        }
    }
    for (account_no, paid_now_fen) in &paid_now {
        let account = &accounts[*account_no];
        let settlement = settle(&PaidAccount {
            kind: account.kind,
            amount_due_fen: account.amount_due_fen,
            held_before_fen: account.held_before_fen,
            paid_now_fen: *paid_now_fen,
            fee_earned: account.fee_earned,
        });
        if settlement.earn_fee_fen > 0 || settlement.excess_fen > 0 {
            plan.settlements
                .push(((*account_no).to_owned(), settlement));
        }
    }
    plan_payers(&mut plan, accounts, &deposit_payers, known);
    plan
}

/// Art 26 and 40 over the deposits the batch credited, as (account, payer) pairs.
fn plan_payers(
    plan: &mut Plan,
    accounts: &HashMap<String, Account>,
    paid: &BTreeSet<(&str, &str)>,
    known: &[KnownPayer],
) {
    let mut flags = BTreeSet::new();
    let mut payers: Vec<KnownPayer> = known.to_vec();
    for &(account_no, payer) in paid {
        let account = &accounts[account_no];
        let basic = account.basic_account.as_deref();
        if payer_mismatch(basic, payer) {
            flags.insert(Flag {
                account_no: account_no.to_owned(),
                kind: FlagKind::PayerMismatch,
                payer_account: payer.to_owned(),
                detail: format!(
                    "paid from {payer}, not the registered basic account {}",
                    basic.unwrap_or("(none registered)")
                ),
            });
        }
        if !payers
            .iter()
            .any(|k| k.payer_account == payer && k.account_no == account_no)
        {
            let new = KnownPayer {
                payer_account: payer.to_owned(),
                account_no: account_no.to_owned(),
                tender_id: account.tender_id.clone(),
                organization_id: account.organization_id.clone(),
            };
            plan.new_payers.push(new.clone());
            payers.push(new);
        }
    }
    for &(account_no, payer) in paid {
        let account = &accounts[account_no];
        let this = (
            payer,
            account.tender_id.as_str(),
            account.organization_id.as_str(),
        );
        for other in &payers {
            let that = (
                other.payer_account.as_str(),
                other.tender_id.as_str(),
                other.organization_id.as_str(),
            );
            if !shared_payer(this, that) {
                continue;
            }
            let detail = |x: &str, y: &str| {
                format!("the deposits of {x} and {y} were paid from the same account {payer}")
            };
            flags.insert(Flag {
                account_no: account_no.to_owned(),
                kind: FlagKind::SharedPayer,
                payer_account: payer.to_owned(),
                detail: detail(&account.organization_id, &other.organization_id),
            });
            flags.insert(Flag {
                account_no: other.account_no.clone(),
                kind: FlagKind::SharedPayer,
                payer_account: payer.to_owned(),
                detail: detail(&other.organization_id, &account.organization_id),
            });
        }
    }
    plan.flags = flags.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(no: &str, kind: AccountKind, org: &str, due: i64, held: i64) -> Account {
        Account {
            account_no: no.to_owned(),
            kind,
            status: AccountStatus::Open,
            currency: "CNY".to_owned(),
            tender_id: "tnd_1".to_owned(),
            lot_id: "lot_1".to_owned(),
            organization_id: org.to_owned(),
            amount_due_fen: due,
            held_before_fen: held,
            fee_earned: false,
            basic_account: Some(format!("basic-{org}")),
        }
    }

    fn accounts(list: Vec<Account>) -> HashMap<String, Account> {
        list.into_iter()
            .map(|a| (a.account_no.clone(), a))
            .collect()
    }

    fn pay<'a>(account_no: &'a str, amount_fen: i64, payer: &'a str) -> Payment<'a> {
        Payment {
            account_no,
            amount_fen,
            currency: "CNY",
            payer,
        }
    }

    #[test]
    fn crediting_a_batch_sends_unknown_closed_and_foreign_currency_payments_to_suspense() {
        let mut closed = account("A2", AccountKind::Deposit, "org_b", 100, 0);
        closed.status = AccountStatus::Closed;
        let accounts = accounts(vec![
            account("A1", AccountKind::Deposit, "org_a", 100, 0),
            closed,
        ]);
        let usd = Payment {
            currency: "USD",
            ..pay("A1", 100, "basic-org_a")
        };
        let plan = plan(
            &accounts,
            &[
                pay("A1", 100, "basic-org_a"),
                pay("A2", 100, "basic-org_b"),
                pay("A9", 100, "x"),
                usd,
            ],
            &[],
        );
        assert_eq!(
            plan.dispositions,
            [
                Disposition::Credit,
                Disposition::Suspense,
                Disposition::Suspense,
                Disposition::Suspense
            ]
        );
        // Paid exactly, from the basic account: nothing to settle, nothing to flag.
        assert!(plan.settlements.is_empty());
        assert!(plan.flags.is_empty());
    }

    #[test]
    fn overpayment_two_payments_of_one_batch_add_up_before_the_excess_is_refunded() {
        let accounts = accounts(vec![account("A1", AccountKind::Deposit, "org_a", 100, 30)]);
        let plan = plan(
            &accounts,
            &[pay("A1", 50, "basic-org_a"), pay("A1", 50, "basic-org_a")],
            &[],
        );
        assert_eq!(plan.settlements.len(), 1);
        assert_eq!(plan.settlements[0].1.excess_fen, 30);
        assert_eq!(plan.settlements[0].1.keep_fen, 100);
    }

    #[test]
    fn fee_earning_art_16_a_fee_completed_by_the_batch_is_earned() {
        let accounts = accounts(vec![account("F1", AccountKind::Fee, "org_a", 300, 100)]);
        let plan = plan(&accounts, &[pay("F1", 200, "anyone")], &[]);
        assert_eq!(plan.settlements[0].1.earn_fee_fen, 300);
        // Fees are not deposits: any payer, no flag, no payer recorded.
        assert!(plan.flags.is_empty());
        assert!(plan.new_payers.is_empty());
    }

    #[test]
    fn art_26_a_deposit_paid_from_another_account_is_flagged_once() {
        let accounts = accounts(vec![account("A1", AccountKind::Deposit, "org_a", 100, 0)]);
        let plan = plan(
            &accounts,
            &[pay("A1", 50, "other"), pay("A1", 50, "other")],
            &[],
        );
        assert_eq!(plan.flags.len(), 1);
        assert_eq!(plan.flags[0].kind, FlagKind::PayerMismatch);
        assert_eq!(plan.new_payers.len(), 1);
    }

    #[test]
    fn art_40_one_payer_for_two_bidders_flags_both_within_a_batch_and_across_batches() {
        let two = accounts(vec![
            account("A1", AccountKind::Deposit, "org_a", 100, 0),
            account("B1", AccountKind::Deposit, "org_b", 100, 0),
        ]);
        let within = plan(&two, &[pay("A1", 100, "P"), pay("B1", 100, "P")], &[]);
        let shared: Vec<&str> = within
            .flags
            .iter()
            .filter(|f| f.kind == FlagKind::SharedPayer)
            .map(|f| f.account_no.as_str())
            .collect();
        assert_eq!(shared, ["A1", "B1"]);

        // B1 was paid from P by an earlier batch, recorded as a known payer.
        let earlier = KnownPayer {
            payer_account: "P".to_owned(),
            account_no: "B1".to_owned(),
            tender_id: "tnd_1".to_owned(),
            organization_id: "org_b".to_owned(),
        };
        let one = accounts(vec![account("A1", AccountKind::Deposit, "org_a", 100, 0)]);
        let across = plan(&one, &[pay("A1", 100, "P")], &[earlier]);
        let shared: Vec<&str> = across
            .flags
            .iter()
            .filter(|f| f.kind == FlagKind::SharedPayer)
            .map(|f| f.account_no.as_str())
            .collect();
        assert_eq!(shared, ["A1", "B1"]);
        assert_eq!(across.new_payers.len(), 1);
    }

    #[test]
    fn art_40_one_bidder_paying_its_own_two_lots_from_one_account_is_not_flagged() {
        let mut second_lot = account("A2", AccountKind::Deposit, "org_a", 100, 0);
        second_lot.lot_id = "lot_2".to_owned();
        let accounts = accounts(vec![
            account("A1", AccountKind::Deposit, "org_a", 100, 0),
            second_lot,
        ]);
        let plan = plan(
            &accounts,
            &[pay("A1", 100, "basic-org_a"), pay("A2", 100, "basic-org_a")],
            &[],
        );
        assert!(plan.flags.is_empty());
    }
}
