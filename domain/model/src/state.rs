//! The states the platform stores, each an enum written under its name (never a string literal in
//! a query).

use crate::named_states;

named_states!(
    /// A sealed bid's life (电子招标投标办法 Art 26–31). At most one bid per bidder and lot is
    /// `current`.
    BidStatus {
        /// The bid that counts: received before the deadline and not since replaced or withdrawn.
        Current => "current",
        /// Superseded by a later upload before the deadline.
        Replaced => "replaced",
        /// Taken back (撤回) before the deadline; its deposit is refunded.
        Withdrawn => "withdrawn",
        /// Revoked (撤销) after the deadline; its deposit is forfeited (实施条例 Art 35).
        Revoked => "revoked",
    }
);

named_states!(
    /// A bidder's registration for a lot.
    RegistrationStatus {
        Active => "active",
        /// Withdrawn before the deadline; registering again opens a new registration.
        Withdrawn => "withdrawn",
    }
);

named_states!(
    /// What a virtual account (虚拟子账号) is for.
    AccountKind {
        /// A lot's bid deposit (保证金).
        Deposit => "deposit",
        /// A tender's document fee.
        Fee => "fee",
    }
);

named_states!(
    /// Whether a virtual account takes payments: a closed one sends them to suspense.
    AccountStatus {
        Open => "open",
        Closed => "closed",
    }
);

named_states!(
    /// A refund on its way to the bank.
    RefundStatus {
        /// Booked; the instruction to the bank is queued.
        Pending => "pending",
        /// Handed to the bank.
        Instructed => "instructed",
        /// The bank confirmed the transfer.
        Confirmed => "confirmed",
        /// The bank refused it; retried, and shown to operators.
        Failed => "failed",
    }
);

named_states!(
    /// A background job's life (docs/operations.md, "Background work and deadlines").
    JobStatus {
        /// Waiting for its time (`run_at`) or for a worker.
        Pending => "pending",
        /// Taken by a worker, whose lease has not run out.
        Running => "running",
        Done => "done",
        /// Failed `max_attempts` times: waits for an operator (`tenderhall jobs retry`).
        Dead => "dead",
    }
);

named_states!(
    /// What a deposit flag tells the supervisors (实施条例 Art 26, 40).
    FlagKind {
        /// Paid from another account than the bidder's registered basic account (Art 26).
        PayerMismatch => "payer_mismatch",
        /// One payer account paid the deposits of two bidders of one tender (Art 40).
        SharedPayer => "shared_payer",
    }
);

named_states!(
    /// An expert draw's life (docs/spec/draws.md).
    DrawStatus {
        /// Committed to its secret and pool; waiting for the public input.
        AwaitingInput => "awaiting_input",
        /// Ranked; invitations out, seats being accepted.
        Inviting => "inviting",
        /// Every seat accepted; the secret is revealed in the proof.
        Complete => "complete",
        /// No eligible expert is left for a seat still open.
        Exhausted => "exhausted",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_read_back_from_the_name_it_is_stored_under() {
        for s in BidStatus::ALL {
            assert_eq!(BidStatus::parse(s.as_str()), Some(*s));
        }
        for s in RegistrationStatus::ALL {
            assert_eq!(RegistrationStatus::parse(s.as_str()), Some(*s));
        }
        for s in AccountKind::ALL {
            assert_eq!(AccountKind::parse(s.as_str()), Some(*s));
        }
        for s in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(s.as_str()), Some(*s));
        }
        for s in RefundStatus::ALL {
            assert_eq!(RefundStatus::parse(s.as_str()), Some(*s));
        }
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(*s));
        }
        for s in FlagKind::ALL {
            assert_eq!(FlagKind::parse(s.as_str()), Some(*s));
        }
        for s in DrawStatus::ALL {
            assert_eq!(DrawStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(BidStatus::parse("Current"), None);
    }
}
