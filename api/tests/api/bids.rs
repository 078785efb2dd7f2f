//! Sealed bids (SEALED_BIDS.md, API.md "Registration, bids and the opening"): opening keys per lot,
//! sealed to at publication and unwrapped only at the deadline.

use base64::Engine as _;
use chrono::TimeDelta;
use serde_json::Value;
use tenderhall_domain::bid::hpke;
use tenderhall_domain::bid::keys::unwrap_opening_key;
use tenderhall_domain::keys::key_id;

use crate::helpers::{TestApp, TestResult, text};

/// SEALED_BIDS.md "Keys": publication gives every lot an X25519 opening key, published with the
/// lot; its private half unwraps only at the deadline (server time), and every unwrap is audited.
#[tokio::test]
async fn every_lot_gets_an_opening_key_that_unwraps_only_after_the_deadline() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@keys.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "开标密钥", 21).await?;
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    let lot = &tender["lots"][0];
    let public = base64::engine::general_purpose::STANDARD
        .decode(text(&lot["opening_key"]["public_key"]))?;
    assert_eq!(public.len(), 32);
    assert_eq!(text(&lot["opening_key"]["key_id"]), key_id(&public));

    let deadline = app.state.now() + TimeDelta::days(21);
    let db = app.state.db();
    let early = unwrap_opening_key(
        db,
        app.state.master_key(),
        &id,
        "1",
        deadline,
        app.state.now(),
    )
    .await;
    assert!(
        matches!(
            early,
            Err(tenderhall_domain::DomainError::Conflict {
                code: "not_opened",
                ..
            })
        ),
        "{early:?}"
    );
    app.clock.advance(TimeDelta::days(21));
    let secret = unwrap_opening_key(
        db,
        app.state.master_key(),
        &id,
        "1",
        deadline,
        app.state.now(),
    )
    .await?;
    assert_eq!(hpke::public_of(&secret).map(|p| p.to_vec()), Some(public));

    // The unwrap is on the tender's audit chain, which supervisors read; the refused attempt left
    // nothing.
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let audit: Value = app
        .get(&format!("/api/v1/tenders/{id}/audit"), Some(&supervisor))
        .await?
        .json()
        .await?;
    let unwraps = audit["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|e| e["action"] == "opening_key.unwrap")
                .count()
        })
        .unwrap_or_default();
    assert_eq!(unwraps, 1, "{audit}");
    Ok(())
}

/// `tenderhall seal` (SEALED_BIDS.md "Plaintext"): the envelope opens with the lot's key to a ustar
/// archive of regular files, `price.json` first; a bad price form is refused before sealing and
/// leaves no file.
#[tokio::test]
async fn the_seal_command_writes_an_envelope_that_opens_to_price_json_and_the_files() -> TestResult
{
    use ring::signature::KeyPair as _;
    use tenderhall_api::bidder::{SealRequest, keygen, read_signing_key, seal};
    use tenderhall_domain::bid::envelope::{self, Expect};

    let dir = tempfile::tempdir()?;
    let key_path = dir.path().join("signing.pk8");
    let (public_b64, signer_id) = keygen(&key_path)?;
    assert!(
        keygen(&key_path).is_err(),
        "an existing key is never overwritten"
    );
    let signer = read_signing_key(&key_path)?;
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(signer.public_key().as_ref()),
        public_b64
    );
    let (secret, public) = hpke::opening_keypair(&ring::rand::SystemRandom::new())?;
    let price = dir.path().join("price.json");
    std::fs::write(
        &price,
        r#"{"lot":"1","currency":"CNY","total_price":"1234567.89","工期":"180天"}"#,
    )?;
    let technical = dir.path().join("技术标.pdf");
    let technical_bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&technical, &technical_bytes)?;
    let out = dir.path().join("bid.thb");
    let request = |price: std::path::PathBuf| SealRequest {
        tender: "tnd_cli".into(),
        lot: "1".into(),
        bidder: "org_cli".into(),
        opening_key: base64::engine::general_purpose::STANDARD.encode(public),
        signing_key: key_path.clone(),
        price,
        files: vec![technical.clone()],
        out: out.clone(),
        progress: false,
    };
    let sealed = seal(&request(price.clone()))?;
    let bytes = std::fs::read(&out)?;
    assert_eq!(sealed.size, bytes.len() as u64);

    let lookup = |id: &str| (id == signer_id).then(|| signer.public_key().as_ref().to_vec());
    let recipient = key_id(&public);
    let expect = Expect {
        tender: "tnd_cli",
        lot: "1",
        bidder: "org_cli",
        recipient: &recipient,
        signer: &lookup,
    };
    let mut plain = Vec::new();
    envelope::open(&bytes[..], &expect, &secret, &mut plain)?;
    let mut archive = tar::Archive::new(&plain[..]);
    let mut entries = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        assert_eq!(entry.header().entry_type(), tar::EntryType::Regular);
        let name = entry.path()?.to_string_lossy().into_owned();
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content)?;
        entries.push((name, content));
    }
    assert_eq!(entries[0].0, "price.json");
    assert_eq!(entries[1], ("技术标.pdf".to_owned(), technical_bytes));

    // A price that is not a decimal string: refused, nothing written.
    std::fs::remove_file(&out)?;
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"lot":"1","currency":"CNY","total_price":1234567.89}"#,
    )?;
    let err = seal(&request(bad))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("total_price"), "{err}");
    assert!(!out.exists() && !dir.path().join("bid.thb.part").exists());
    Ok(())
}
