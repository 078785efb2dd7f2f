//! Deposit and fee use cases: registration and fee accounts, bank notifications, the ledger and its
//! check, deposit status and the views of "Who sees what".

mod bank;
mod credit;
mod events;
mod guarantee;
mod intake;
pub mod ledger;
mod payers;
mod reconcile;
mod refund;
mod registration;
mod settlement;
mod status;

pub use self::bank::{
    Notification, Receipt, SuspensePayment, receive, receive_all, suspense_payments,
};
pub use self::events::{
    forfeit_registration, forfeit_registration_in, refund_after_contract, refund_after_contract_in,
    refund_all, refund_losers_after_award, refund_losers_after_award_in, refund_withdrawn_bid,
    reopen_for_bid, settle_auction_in, withdraw_registration,
};
pub use self::guarantee::{guarantees_allowed, has_guarantee, present_guarantee, register_issuer};
pub use self::intake::NotificationIntake;
pub use self::ledger::{LedgerReport, check as check_ledger};
pub use self::reconcile::{Reconciliation, StatementLine, reconcile};
pub use self::refund::{REFUND_JOB, RefundReason, book_forfeit, book_refund};
pub use self::registration::{
    Registration, VirtualAccount, fee_account, fee_settled, payer_of, register,
};
pub use self::settlement::{
    OperatorRefund, RefundOutcome, RefundView, confirm_refund, list_refunds, operator_refunds,
    send_refund,
};
pub use self::status::{
    DepositLine, Flag, FlagView, OwnRegistration, deposit_status, flags_of, lot_deposits,
    own_deposit_status, own_registration, own_registrations, require_flag_reader, status_at,
    tender_flags, visible_flags,
};
