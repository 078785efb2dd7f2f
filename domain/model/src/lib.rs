//! Tenderhall's states and the rules that decide on them, as plain functions of loaded state and
//! `now`. This crate depends on no database, runtime or network crate, so nothing here can read or
//! write anything: the use cases in `tenderhall-domain` load the state, ask a rule here for a
//! decision, and apply it (docs/architecture.md, "functional core").
//!
//! - [`error`]: the stable error codes of the API contract, with their statuses and titles;
//! - [`state`]: the states of bids, registrations, accounts, refunds, jobs and flags, stored by
//!   their names;
//! - [`auction`]: live auctions (竞价): listing then timed round, english, dutch and reverse
//!   forms, decided against the clock (docs/spec/rules.md "Auctions");
//! - [`bid`]: when a bid may be submitted, replaced, withdrawn or revoked, and what becomes of it at
//!   the opening (电子招标投标办法 Art 26–31);
//! - [`deposit`]: what a payment does (credit or suspense), when a fee is earned, what is refunded
//!   as overpaid, which payers are flagged (实施条例 Art 26, 40), and refund interest;
//!   [`deposit::batch`] decides a whole batch of bank payments at once;
//! - [`expert`]: specialties, avoidance (政府采购法实施条例 Art 9), committee sizes and the verifiable
//!   draw with its offline check;
//! - [`evaluation`]: the price formulas (87号令 Art 55 and the construction mean-base family).

pub mod auction;
pub mod bid;
pub mod deposit;
pub mod error;
pub mod evaluation;
pub mod expert;
pub mod state;

/// Implements `as_str`, `parse` and `ALL` for a state enum stored by its snake_case name.
macro_rules! named_states {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every state, in the order of the life it describes.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name it is stored and shown under.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The state stored under `name`, if any.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|s| s.as_str() == name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_states;
