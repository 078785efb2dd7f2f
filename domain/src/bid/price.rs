//! The bid's price form (docs/spec/envelope.md "Plaintext"): `price.json`, the archive's first member,
//! read at the opening.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;

/// Reads `price.json`, the archive's first member (docs/spec/envelope.md "Plaintext"), from the start of
/// the decrypted archive: its fields for the record, or why the bid cannot be read (revoked).
pub fn read_price(
    archive_start: &[u8],
    lot: &str,
    opening_fields: &[String],
) -> Result<BTreeMap<String, String>, String> {
    let mut archive = tar::Archive::new(archive_start);
    let mut entries = archive
        .entries()
        .map_err(|e| format!("the bid is not a ustar archive: {e}"))?;
    let mut first = entries
        .next()
        .ok_or("the bid's archive is empty")?
        .map_err(|e| format!("the bid's archive is malformed: {e}"))?;
    let name = first
        .path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name != "price.json" || first.header().entry_type() != tar::EntryType::Regular {
        return Err(format!(
            "the archive's first member is `{name}`, not price.json"
        ));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut first, &mut bytes)
        .map_err(|e| format!("price.json cannot be read: {e}"))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("price.json is not JSON: {e}"))?;
    let object = value.as_object().ok_or("price.json is not a JSON object")?;
    let text = |name: &str| object.get(name).and_then(Value::as_str);
    if text("lot") != Some(lot) {
        return Err(format!(
            "price.json is for lot {:?}, not {lot}",
            text("lot")
        ));
    }
    let mut fields = BTreeMap::new();
    let price = text("total_price").ok_or("price.json has no total_price string")?;
    // A price in yuan to the fen, within what the scoring takes: anything else could never be
    // ranked, so it is the bidder's fault here rather than a failure later.
    match price.parse::<Decimal>() {
        Ok(p)
            if p > Decimal::ZERO
                && p.scale() <= 2
                && p <= tenderhall_model::evaluation::price::MAX_PRICE => {}
        _ => {
            return Err(format!(
                "total_price `{price}` is not a positive amount in yuan with at most 2 decimals"
            ));
        }
    }
    fields.insert("total_price".to_owned(), price.to_owned());
    for field in opening_fields {
        let value =
            text(field).ok_or_else(|| format!("price.json lacks the opening field `{field}`"))?;
        fields.insert(field.clone(), value.to_owned());
    }
    Ok(fields)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn archive(price: &str) -> Vec<u8> {
        let body = format!(r#"{{"lot":"1","currency":"CNY","total_price":"{price}"}}"#);
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "price.json", body.as_bytes())
            .unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn envelope_plaintext_a_price_is_yuan_to_the_fen_within_what_scoring_takes() {
        assert_eq!(
            read_price(&archive("1234567.89"), "1", &[]).unwrap()["total_price"],
            "1234567.89"
        );
        for bad in ["0", "-1", "0.001", "1000000000000000.01", "abc"] {
            assert!(read_price(&archive(bad), "1", &[]).is_err(), "{bad}");
        }
    }
}
