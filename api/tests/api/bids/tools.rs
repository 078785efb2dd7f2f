//! The bidder's commands: `tenderhall seal`, `submit` and `verify-receipt`.

use super::*;

/// `tenderhall seal` (docs/spec/envelope.md "Plaintext"): the envelope opens with the lot's key to a ustar
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
    let empty = dir.path().join("空白声明.txt");
    std::fs::write(&empty, b"")?;
    // Over ustar's 100 bytes of name: the tar crate's long-name entry carries it.
    let long_name = format!("{}.pdf", "资格审查材料".repeat(6));
    let long = dir.path().join(&long_name);
    std::fs::write(&long, b"qualification")?;
    let out = dir.path().join("bid.thb");
    let request = |price: std::path::PathBuf| SealRequest {
        tender: "tnd_cli".into(),
        lot: "1".into(),
        bidder: "org_cli".into(),
        opening_key: base64::engine::general_purpose::STANDARD.encode(public),
        signing_key: key_path.clone(),
        price,
        files: vec![technical.clone(), empty.clone(), long.clone()],
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
    assert_eq!(
        entries[1],
        ("技术标.pdf".to_owned(), technical_bytes.clone())
    );
    assert_eq!(entries[2], ("空白声明.txt".to_owned(), Vec::new()));
    assert_eq!(entries[3], (long_name.clone(), b"qualification".to_vec()));
    assert_eq!(entries.len(), 4);
    // Byte for byte the archive the tar crate writes for the same files.
    let mut expected = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("price.json", std::fs::read(&price)?),
        ("技术标.pdf", technical_bytes),
        ("空白声明.txt", Vec::new()),
        (long_name.as_str(), b"qualification".to_vec()),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        expected.append_data(&mut header, name, &data[..])?;
    }
    assert!(plain == expected.into_inner()?, "the archive differs");

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

/// `tenderhall submit` and `tenderhall verify-receipt`: the receipt of a streamed upload checks out
/// against the platform key and names the envelope sent; a receipt or an opening record changed by
/// one character no longer verifies.
#[tokio::test]
async fn submit_checks_its_receipt_and_verify_receipt_catches_a_changed_one() -> TestResult {
    use tenderhall_api::bidder::{platform_key, submit, verify_signed_document};
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@submit.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "命令行递交", 21).await?;
    let key = opening_key(&app, &id).await?;
    let alice = bidder(&app, "alice@submit.test", &id).await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bid.thb");
    std::fs::write(&path, sealed_bid(&alice, &id, &key, "4200.00")?)?;

    let receipt = submit(&app.base, &alice.token, &id, "1", &path).await?;
    assert_eq!(receipt["seq"], 1);
    let (public, _) = platform_key(&app.base).await?;
    verify_signed_document(&receipt, &public)?;
    let mut changed = receipt.clone();
    changed["seq"] = Value::from(2);
    assert!(verify_signed_document(&changed, &public).is_err());

    // A refusal is reported with its code.
    let other = hpke::opening_keypair(&ring::rand::SystemRandom::new())?.1;
    std::fs::write(&path, sealed_bid(&alice, &id, &other, "4200.00")?)?;
    let err = submit(&app.base, &alice.token, &id, "1", &path)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("wrong_recipient"), "{err}");

    // The opening record verifies the same way.
    for email in ["b@submit.test", "c@submit.test"] {
        let b = bidder(&app, email, &id).await?;
        put_bid(&app, &b, &id, sealed_bid(&b, &id, &key, "4300.00")?).await?;
    }
    app.clock.advance(TimeDelta::days(21));
    drain(&app).await?;
    let record: Value = opening_record(&app, &id).await?;
    verify_signed_document(&record, &public)?;
    let mut changed = record.clone();
    changed["bids"][0]["fields"]["total_price"] = Value::from("1.00");
    assert!(verify_signed_document(&changed, &public).is_err());
    Ok(())
}
