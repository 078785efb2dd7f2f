//! An auction lot's reserve price, sealed (docs/auctions.md "The reserve and the result"): under the
//! master key while the tender is a draft, to the lot's opening key (HPKE, like a bid's data key)
//! from publication until the close.

use base64::Engine as _;
use rust_decimal::Decimal;

use crate::error::{DomainError, DomainResult};
use crate::keys::MasterKey;
use crate::money::Money;

/// What a sealed reserve is bound to: a sealed reserve moved to another lot does not open.
fn reserve_context(tender_id: &str, lot_id: &str) -> String {
    format!("tenderhall/auction-reserve/v1|{tender_id}|{lot_id}")
}

/// The reserve of a draft, wrapped under the master key (the draft has no opening key yet).
pub fn wrap_reserve(
    master: &MasterKey,
    tender_id: &str,
    lot_id: &str,
    reserve: Money,
) -> DomainResult<String> {
    master
        .wrap(
            reserve.amount().to_string().as_bytes(),
            &reserve_context(tender_id, lot_id),
        )
        .map_err(DomainError::internal)
}

/// At publication: the draft's reserve moved from the master key to the lot's opening key, HPKE
/// base mode like a bid's data key (docs/spec/envelope.md), `enc ‖ ciphertext` in base64.
pub fn reseal_reserve(
    master: &MasterKey,
    tender_id: &str,
    lot_id: &str,
    wrapped: &str,
    opening_public: &[u8],
) -> DomainResult<String> {
    let context = reserve_context(tender_id, lot_id);
    let plain = master
        .unwrap(wrapped, &context)
        .map_err(DomainError::internal)?;
    let sealed = crate::bid::hpke::seal_message(
        opening_public,
        context.as_bytes(),
        &plain,
        &ring::rand::SystemRandom::new(),
    )
    .map_err(DomainError::internal)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// At the close: the reserve opened with the lot's opening private key.
pub fn open_reserve(
    opening_secret: &[u8],
    tender_id: &str,
    lot_id: &str,
    sealed: &str,
) -> DomainResult<Decimal> {
    let bad =
        || DomainError::internal(format!("the reserve of {tender_id}/{lot_id} does not open"));
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .map_err(|_| bad())?;
    let context = reserve_context(tender_id, lot_id);
    let plain = crate::bid::hpke::open_message(opening_secret, context.as_bytes(), &sealed)
        .ok_or_else(bad)?;
    std::str::from_utf8(&plain)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(bad)
}
