//! Deposit and fee use cases: registration and fee accounts, bank notifications, the ledger and its
//! check, deposit status and the views of "Who sees what".

mod bank;
pub mod ledger;
mod registration;
mod status;

pub use self::bank::{Receipt, SuspensePayment, receive, suspense_payments};
pub use self::ledger::{LedgerReport, check as check_ledger};
pub use self::registration::{
    Registration, VirtualAccount, fee_account, fee_settled, payer_of, register,
};
pub use self::status::{DepositLine, Flag, deposit_status, lot_deposits, tender_flags};
