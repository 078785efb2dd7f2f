//! Sealed bids (SEALED_BIDS.md): the envelope format. Submission, receipts and the opening build on
//! it.

pub mod envelope;
