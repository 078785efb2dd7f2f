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

/// A bidder ready to bid: registered for lot 1, with a registered signing key.
struct Bidder {
    token: String,
    org: String,
    key: ring::signature::Ed25519KeyPair,
}

async fn bidder(app: &TestApp, email: &str, tender: &str) -> anyhow::Result<Bidder> {
    use ring::signature::KeyPair as _;
    let (token, org) = app.member(email, "bidder").await?;
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
            &serde_json::json!({}),
            Some(&token),
        )
        .await?;
    anyhow::ensure!(res.status() == reqwest::StatusCode::CREATED, "registration");
    let rng = ring::rand::SystemRandom::new();
    let key = ring::signature::Ed25519KeyPair::from_pkcs8(
        ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| anyhow::anyhow!("keygen"))?
            .as_ref(),
    )
    .map_err(|_| anyhow::anyhow!("key"))?;
    let res = app
        .post(
            &format!("/api/v1/organizations/{org}/signing-keys"),
            &serde_json::json!({"public_key": base64::engine::general_purpose::STANDARD.encode(key.public_key().as_ref())}),
            Some(&token),
        )
        .await?;
    anyhow::ensure!(
        res.status() == reqwest::StatusCode::CREATED,
        "signing key: {}",
        res.text().await?
    );
    Ok(Bidder { token, org, key })
}

/// The lot's opening public key, raw.
async fn opening_key(app: &TestApp, tender: &str) -> anyhow::Result<Vec<u8>> {
    let view: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    Ok(base64::engine::general_purpose::STANDARD
        .decode(text(&view["lots"][0]["opening_key"]["public_key"]))?)
}

fn sealed_bid(bidder: &Bidder, tender: &str, to: &[u8], price: &str) -> anyhow::Result<Vec<u8>> {
    let archive = price_archive(price)?;
    let mut out = Vec::new();
    tenderhall_domain::bid::envelope::seal(
        &tenderhall_domain::bid::envelope::SealParams {
            tender,
            lot: "1",
            bidder: &bidder.org,
            opening_key: to,
            signing_key: &bidder.key,
            created_at: "2026-11-28T08:00:00Z".into(),
        },
        &archive[..],
        &mut out,
    )?;
    Ok(out)
}

/// A ustar archive holding `price.json` for lot 1.
fn price_archive(total_price: &str) -> anyhow::Result<Vec<u8>> {
    let price =
        serde_json::json!({"lot": "1", "currency": "CNY", "total_price": total_price}).to_string();
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(price.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, "price.json", price.as_bytes())?;
    Ok(builder.into_inner()?)
}

async fn put_bid(
    app: &TestApp,
    bidder: &Bidder,
    tender: &str,
    envelope: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    Ok(app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/tenders/{tender}/lots/1/bid"),
            Some(&bidder.token),
        )
        .header("content-type", "application/vnd.tenderhall.bid")
        .body(envelope)
        .send()
        .await?)
}

/// Objects in the local document store (the staging area excluded).
fn stored_objects(app: &TestApp) -> usize {
    std::fs::read_dir(app.settings.documents_dir().join("objects"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|shard| {
                    std::fs::read_dir(shard.path())
                        .map(|d| d.count())
                        .unwrap_or(1)
                })
                .sum()
        })
        .unwrap_or(0)
}

/// SEALED_BIDS.md "Receipt": a receipt signed by the platform key after the envelope is stored;
/// a replacement numbered 2; the bidder sees its own receipt and deposit status; a withdrawal
/// answers a signed withdrawal receipt and leaves no current bid.
#[tokio::test]
async fn a_bid_is_receipted_replaced_and_withdrawn_with_signed_receipts() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@bid.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "投标回执", 21).await?;
    let alice = bidder(&app, "alice@bid.test", &id).await?;
    let key = opening_key(&app, &id).await?;

    let envelope = sealed_bid(&alice, &id, &key, "1000000.00")?;
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &envelope));
    let size = envelope.len();
    let res = put_bid(&app, &alice, &id, envelope).await?;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let receipt: Value = res.json().await?;
    assert_eq!(receipt["envelope_sha256"], sha);
    assert_eq!(receipt["size"], size);
    assert_eq!(receipt["seq"], 1);
    assert_eq!(receipt["bidder"], alice.org);
    assert_receipt_signed(&app, &receipt).await?;

    let replacement = sealed_bid(&alice, &id, &key, "990000.00")?;
    let receipt: Value = put_bid(&app, &alice, &id, replacement)
        .await?
        .json()
        .await?;
    assert_eq!(receipt["seq"], 2);
    let mine: Value = app
        .get(
            &format!("/api/v1/tenders/{id}/lots/1/bid"),
            Some(&alice.token),
        )
        .await?
        .json()
        .await?;
    assert_eq!(mine["receipt"], receipt);
    assert_eq!(mine["deposit_status"], "unpaid");

    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/tenders/{id}/lots/1/bid"),
            Some(&alice.token),
        )
        .send()
        .await?;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let withdrawal: Value = res.json().await?;
    assert_eq!(withdrawal["seq"], 2);
    assert!(withdrawal.get("withdrawn_at").is_some() && withdrawal.get("received_at").is_none());
    assert_receipt_signed(&app, &withdrawal).await?;
    let res = app
        .get(
            &format!("/api/v1/tenders/{id}/lots/1/bid"),
            Some(&alice.token),
        )
        .await?;
    assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND);
    Ok(())
}

/// The receipt's signature verifies under the published platform key over the canonical JSON of
/// the other fields.
async fn assert_receipt_signed(app: &TestApp, receipt: &Value) -> anyhow::Result<()> {
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    assert_eq!(receipt["platform_key"], keys["receipt_key"]["key_id"]);
    let public = base64::engine::general_purpose::STANDARD
        .decode(text(&keys["receipt_key"]["public_key"]))?;
    let mut unsigned = receipt.clone();
    let signature = text(&unsigned["signature"]);
    unsigned.as_object_mut().map(|o| o.remove("signature"));
    let message = tenderhall_domain::canonical::to_canonical_string(&unsigned);
    assert!(
        tenderhall_domain::keys::verify_ed25519(&public, message.as_bytes(), &signature),
        "receipt signature"
    );
    Ok(())
}

/// SEALED_BIDS.md's upload table: each refusal with its code, and nothing kept in the store.
#[tokio::test]
async fn refused_envelopes_answer_their_code_and_leave_nothing_in_the_store() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@refuse.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "拒收", 21).await?;
    let alice = bidder(&app, "alice@refuse.test", &id).await?;
    let key = opening_key(&app, &id).await?;
    let before = stored_objects(&app);

    // Sealed to another key.
    let other = hpke::opening_keypair(&ring::rand::SystemRandom::new())?.1;
    let res = put_bid(&app, &alice, &id, sealed_bid(&alice, &id, &other, "1.00")?).await?;
    crate::helpers::assert_problem(
        res,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "wrong_recipient",
    )
    .await?;
    // For another tender.
    let res = put_bid(
        &app,
        &alice,
        &id,
        sealed_bid(&alice, "tnd_other", &key, "1.00")?,
    )
    .await?;
    crate::helpers::assert_problem(
        res,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "bad_envelope",
    )
    .await?;
    // A changed byte in the body.
    let mut changed = sealed_bid(&alice, &id, &key, "1.00")?;
    let at = changed.len() - 100;
    changed[at] ^= 1;
    let res = put_bid(&app, &alice, &id, changed).await?;
    crate::helpers::assert_problem(
        res,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "bad_signature",
    )
    .await?;
    // Not an envelope at all.
    let res = put_bid(&app, &alice, &id, b"not a bid".to_vec()).await?;
    crate::helpers::assert_problem(
        res,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "bad_envelope",
    )
    .await?;
    // A signing key revoked before the upload.
    let keys: Value = app
        .get(
            &format!("/api/v1/organizations/{}/signing-keys", alice.org),
            Some(&alice.token),
        )
        .await?
        .json()
        .await?;
    let key_id = text(&keys["items"][0]["key_id"]);
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/organizations/{}/signing-keys/{key_id}", alice.org),
            Some(&alice.token),
        )
        .send()
        .await?;
    assert!(res.status().is_success());
    let res = put_bid(&app, &alice, &id, sealed_bid(&alice, &id, &key, "1.00")?).await?;
    crate::helpers::assert_problem(
        res,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "bad_signature",
    )
    .await?;
    // Not registered for the lot.
    let (stranger_token, stranger_org) = app.member("stranger@refuse.test", "bidder").await?;
    let stranger = Bidder {
        token: stranger_token,
        org: stranger_org,
        key: alice.key,
    };
    let res = put_bid(
        &app,
        &stranger,
        &id,
        sealed_bid(&stranger, &id, &key, "1.00")?,
    )
    .await?;
    crate::helpers::assert_problem(
        res,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "not_registered",
    )
    .await?;

    assert_eq!(stored_objects(&app), before, "nothing refused is kept");
    Ok(())
}

/// SEALED_BIDS.md: a bid after the deadline (server time) is 409 `deadline_passed` and not
/// stored; withdrawing after it is 409 too.
#[tokio::test]
async fn a_bid_after_the_deadline_is_409_and_not_stored() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@late.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "逾期", 21).await?;
    let mut alice = bidder(&app, "alice@late.test", &id).await?;
    let key = opening_key(&app, &id).await?;
    let envelope = sealed_bid(&alice, &id, &key, "1.00")?;
    let before = stored_objects(&app);
    app.clock.advance(TimeDelta::days(21));
    alice.token = app
        .sign_in("alice@late.test", crate::helpers::PASSWORD)
        .await?;
    let res = put_bid(&app, &alice, &id, envelope).await?;
    crate::helpers::assert_problem(res, reqwest::StatusCode::CONFLICT, "deadline_passed").await?;
    assert_eq!(stored_objects(&app), before);
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/tenders/{id}/lots/1/bid"),
            Some(&alice.token),
        )
        .send()
        .await?;
    crate::helpers::assert_problem(res, reqwest::StatusCode::CONFLICT, "deadline_passed").await?;
    Ok(())
}

async fn drain(app: &TestApp) -> anyhow::Result<()> {
    let runner =
        tenderhall_workers::runner::Runner::new(tenderhall_api::cli::worker_context(&app.state)?);
    while runner.run_one().await? {}
    Ok(())
}

/// SEALED_BIDS.md "Opening": a lot with fewer bids than the minimum (3) fails unopened: the key
/// is never unwrapped, nothing is decrypted, the record says why and the deposits are refunded.
#[tokio::test]
async fn a_lot_with_two_bids_fails_unopened_and_nothing_is_decrypted() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@fail.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "流标", 21).await?;
    let key = opening_key(&app, &id).await?;
    for email in ["a@fail.test", "b@fail.test"] {
        let b = bidder(&app, email, &id).await?;
        let res = put_bid(&app, &b, &id, sealed_bid(&b, &id, &key, "1000.00")?).await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    }
    let res = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?;
    crate::helpers::assert_problem(res, reqwest::StatusCode::CONFLICT, "not_opened").await?;
    app.clock.advance(TimeDelta::days(21));
    drain(&app).await?;
    let record: Value = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?
        .json()
        .await?;
    assert_eq!(record["status"], "failed");
    assert!(
        text(&record["reason"]).contains("fewer than the 3 required"),
        "{record}"
    );
    assert_eq!(record["bids"], serde_json::json!([]));
    assert_record_signed(&app, &record).await?;
    let unwraps = audit_actions(&app, &id)
        .await?
        .iter()
        .filter(|a| *a == "opening_key.unwrap")
        .count();
    assert_eq!(unwraps, 0, "nothing may be decrypted");
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(tender["lots"][0]["status"], "failed");
    Ok(())
}

async fn audit_actions(app: &TestApp, tender: &str) -> anyhow::Result<Vec<String>> {
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let audit: Value = app
        .get(
            &format!("/api/v1/tenders/{tender}/audit"),
            Some(&supervisor),
        )
        .await?
        .json()
        .await?;
    Ok(audit["items"]
        .as_array()
        .map(|items| items.iter().map(|e| text(&e["action"])).collect())
        .unwrap_or_default())
}

async fn assert_record_signed(app: &TestApp, record: &Value) -> anyhow::Result<()> {
    assert_receipt_signed(app, record).await
}

/// An envelope validly signed by its bidder and naming the lot's key, whose data key was sealed
/// to another key: it passes every check the upload can make and cannot be decrypted.
fn undecryptable_bid(bidder: &Bidder, tender: &str, lot_key: &[u8]) -> anyhow::Result<Vec<u8>> {
    let other = hpke::opening_keypair(&ring::rand::SystemRandom::new())?.1;
    let sealed = sealed_bid(bidder, tender, &other, "1.00")?;
    let header_len = u32::from_be_bytes(sealed[8..12].try_into()?) as usize;
    let header = std::str::from_utf8(&sealed[12..12 + header_len])?;
    let header = header.replace(&key_id(&other), &key_id(lot_key));
    let mut out = sealed[..8].to_vec();
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&sealed[12 + header_len..sealed.len() - 68]);
    let digest = ring::digest::digest(&ring::digest::SHA256, &out);
    let mut message = b"tenderhall/bid-signature/v1|".to_vec();
    message.extend_from_slice(digest.as_ref());
    out.extend_from_slice(b"SIG1");
    out.extend_from_slice(bidder.key.sign(&message).as_ref());
    Ok(out)
}

/// SEALED_BIDS.md "Opening": 3 good bids, 1 whose stored envelope was corrupted after its receipt
/// (the platform's fault: withdrawn, with the reason) and 1 validly signed that cannot be
/// decrypted (the bidder's fault: revoked). The good ones open all the same, with their prices;
/// the record is signed, ordered by receipt time, and written once.
#[tokio::test]
async fn an_opening_records_good_corrupted_and_undecryptable_bids_each_as_it_is() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@open.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "开标", 21).await?;
    let key = opening_key(&app, &id).await?;
    let mut orgs = Vec::new();
    for (i, email) in [
        "a@open.test",
        "b@open.test",
        "c@open.test",
        "d@open.test",
        "e@open.test",
    ]
    .into_iter()
    .enumerate()
    {
        let b = bidder(&app, email, &id).await?;
        let envelope = if i == 4 {
            undecryptable_bid(&b, &id, &key)?
        } else {
            sealed_bid(&b, &id, &key, &format!("{}000.00", 100 + i))?
        };
        let res = put_bid(&app, &b, &id, envelope).await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED, "{email}");
        let receipt: Value = res.json().await?;
        orgs.push((b.org.clone(), text(&receipt["envelope_sha256"])));
        app.clock.advance(TimeDelta::seconds(1));
    }
    // The fourth bid's stored envelope is damaged after its receipt.
    let (_, damaged_sha) = &orgs[3];
    let path = app
        .settings
        .documents_dir()
        .join("objects")
        .join(&damaged_sha[..2])
        .join(&damaged_sha[2..4])
        .join(damaged_sha);
    let mut bytes = std::fs::read(&path)?;
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&path, bytes)?;

    app.clock.advance(TimeDelta::days(21));
    drain(&app).await?;
    let record: Value = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?
        .json()
        .await?;
    assert_eq!(record["status"], "opened", "{record}");
    assert_record_signed(&app, &record).await?;
    let bids = record["bids"].as_array().cloned().unwrap_or_default();
    assert_eq!(bids.len(), 5);
    for (i, (org, sha)) in orgs.iter().enumerate() {
        assert_eq!(&text(&bids[i]["bidder_id"]), org, "ordered by received_at");
        assert_eq!(&text(&bids[i]["envelope_sha256"]), sha);
        assert_eq!(bids[i]["deposit_status"], "unpaid");
    }
    for (i, bid) in bids.iter().take(3).enumerate() {
        assert_eq!(bid["status"], "opened", "{bid}");
        assert_eq!(bid["fields"]["total_price"], format!("{}000.00", 100 + i));
    }
    assert_eq!(bids[3]["status"], "withdrawn", "{}", bids[3]);
    assert!(text(&bids[3]["reason"]).contains("no longer matches its receipt"));
    assert!(bids[3].get("fields").is_none());
    assert_eq!(bids[4]["status"], "revoked", "{}", bids[4]);
    assert!(text(&bids[4]["reason"]).contains("cannot be decrypted"));

    // Written once: running the opening again changes nothing.
    let job = tenderhall_domain::bid::opening::open_lot_job(&id, "1", app.state.now());
    tenderhall_domain::jobs::service::enqueue(app.state.db(), job, app.state.now()).await?;
    drain(&app).await?;
    let again: Value = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?
        .json()
        .await?;
    assert_eq!(again, record);
    let unwraps = audit_actions(&app, &id)
        .await?
        .iter()
        .filter(|a| *a == "opening_key.unwrap")
        .count();
    assert_eq!(unwraps, 1);
    Ok(())
}

async fn seen(
    app: &TestApp,
    path: &str,
    tender: &str,
    token: Option<&str>,
) -> anyhow::Result<(reqwest::StatusCode, String)> {
    let res = app.get(&path.replace("{id}", tender), token).await?;
    let status = res.status();
    Ok((status, res.text().await?))
}

/// Drops what differs between two tenders published alike (ids, keys, hashes, request ids) so that
/// what remains can be compared.
fn normalized(mut value: Value, id: &str, as_id: &str) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in [
                    "request_id",
                    "opening_key",
                    "hash",
                    "prev_hash",
                    "id",
                    "object",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    serde_json::from_str(&value.to_string().replace(id, as_id)).unwrap_or(Value::Null)
}

/// 电子招标投标办法 Art 21, API.md "Who sees what": before the deadline, a tender with three
/// registered bidders who bid looks, to the tenderer, supervisors, operators, another bidder and
/// the public, exactly like the same tender with none, on every endpoint they can call; and no
/// platform-wide view (metrics, notifications, the platform audit log) names a bidder or counts bids.
#[tokio::test]
async fn before_the_deadline_nobody_can_tell_a_tender_with_bids_from_one_without() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (owner, _) = app.member("owner@secret.test", "tenderer").await?;
    let (other, _) = app.member("other@secret.test", "bidder").await?;
    let with_bids = app.published_goods_tender(&owner, "保密", 21).await?;
    let without = app.published_goods_tender(&owner, "保密", 21).await?;
    let key = opening_key(&app, &with_bids).await?;
    let mut secrets = Vec::new();
    for email in ["x@secret.test", "y@secret.test", "z@secret.test"] {
        let b = bidder(&app, email, &with_bids).await?;
        let res = put_bid(
            &app,
            &b,
            &with_bids,
            sealed_bid(&b, &with_bids, &key, "5000.00")?,
        )
        .await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        let receipt: Value = res.json().await?;
        secrets.push(b.org.clone());
        secrets.push(text(&receipt["envelope_sha256"]));
    }

    let viewers: [(&str, Option<&str>); 5] = [
        ("public", None),
        ("tenderer", Some(&owner)),
        ("supervisor", Some(&supervisor)),
        ("operator", Some(&operator)),
        ("another bidder", Some(&other)),
    ];
    let paths = [
        "/api/v1/tenders/{id}",
        "/api/v1/tenders/{id}/amendments",
        "/api/v1/tenders/{id}/questions",
        "/api/v1/tenders/{id}/documents",
        "/api/v1/tenders/{id}/downloads",
        "/api/v1/tenders/{id}/audit",
        "/api/v1/tenders/{id}/audit?chain=sealed",
        "/api/v1/tenders/{id}/flags",
        "/api/v1/tenders/{id}/lots/1/deposits",
        "/api/v1/tenders/{id}/lots/1/bid",
        "/api/v1/tenders/{id}/lots/1/opening",
    ];
    for (who, token) in viewers {
        for path in paths {
            let (status_a, body_a) = seen(&app, path, &with_bids, token).await?;
            let (status_b, body_b) = seen(&app, path, &without, token).await?;
            assert_eq!(status_a, status_b, "{who} {path}: {body_a} / {body_b}");
            for secret in &secrets {
                assert!(
                    !body_a.contains(secret.as_str()),
                    "{who} {path} shows {secret}: {body_a}"
                );
            }
            let a = serde_json::from_str(&body_a).unwrap_or(Value::String(body_a.clone()));
            let b = serde_json::from_str(&body_b).unwrap_or(Value::String(body_b.clone()));
            assert_eq!(
                normalized(a, &with_bids, &without),
                normalized(b, &without, &without),
                "{who} {path}"
            );
        }
        for path in ["/api/v1/notifications", "/metrics", "/api/v1/tenders"] {
            let body = app.get(path, token).await?.text().await?;
            for secret in &secrets {
                assert!(
                    !body.contains(secret.as_str()),
                    "{who} {path} shows {secret}"
                );
            }
            assert!(
                !body.contains("/bid\""),
                "{who} {path} counts bid requests: {body}"
            );
        }
        // The platform's own log records that organizations and their signing keys exist, which is
        // not secret; nothing in it ties one to this tender or tells of a bid.
        let body = app
            .get("/api/v1/audit/platform", token)
            .await?
            .text()
            .await?;
        for secret in secrets.iter().filter(|s| !s.starts_with("org_")) {
            assert!(
                !body.contains(secret.as_str()),
                "{who} platform log shows {secret}"
            );
        }
        assert!(
            !body.contains("bid.") && !body.contains(&with_bids),
            "{who} platform log: {body}"
        );
    }
    Ok(())
}

/// API.md `bid/revoke`, 实施条例 Art 35: before the deadline a bid is withdrawn, not revoked; after
/// it, revoking forfeits the paid deposit through the ledger, and the opening records the bid as
/// revoked.
#[tokio::test]
async fn art_35_a_bid_revoked_after_the_deadline_forfeits_its_deposit() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@revoke.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "撤销投标", 21).await?;
    let key = opening_key(&app, &id).await?;
    let mut bidders = Vec::new();
    for email in ["r1@revoke.test", "r2@revoke.test", "r3@revoke.test"] {
        let b = bidder(&app, email, &id).await?;
        let res = put_bid(&app, &b, &id, sealed_bid(&b, &id, &key, "7000.00")?).await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        bidders.push((email, b));
    }
    let (email, mut revoker) = bidders.remove(0);
    let registration: Value = app
        .post(
            &format!("/api/v1/tenders/{id}/lots/1/registrations"),
            &serde_json::json!({}),
            Some(&revoker.token),
        )
        .await?
        .json()
        .await?;
    let account = text(&registration["deposit_account"]["account_no"]);
    let paid = app
        .post(
            "/api/v1/sandbox/bank/pay",
            &serde_json::json!({"account_no": account, "amount": "2000.00"}),
            None,
        )
        .await?;
    assert!(paid.status().is_success());
    let revoke = format!("/api/v1/tenders/{id}/lots/1/bid/revoke");
    let early = app
        .post(&revoke, &serde_json::json!({}), Some(&revoker.token))
        .await?;
    crate::helpers::assert_problem(early, reqwest::StatusCode::CONFLICT, "deadline_not_passed")
        .await?;

    app.clock.advance(TimeDelta::days(21));
    revoker.token = app.sign_in(email, crate::helpers::PASSWORD).await?;
    let res = app
        .post(&revoke, &serde_json::json!({}), Some(&revoker.token))
        .await?;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let again = app
        .post(&revoke, &serde_json::json!({}), Some(&revoker.token))
        .await?;
    assert_eq!(
        again.status(),
        reqwest::StatusCode::OK,
        "revoking twice changes nothing"
    );
    let report = tenderhall_domain::deposit::service::check_ledger(app.state.db()).await?;
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(
        report
            .balances
            .get(&format!("deposit:{account}"))
            .copied()
            .unwrap_or(0),
        0
    );
    assert_eq!(
        report.balances.get(&format!("forfeited:{id}")),
        Some(&-200_000),
        "{report:?}"
    );

    drain(&app).await?;
    let record: Value = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?
        .json()
        .await?;
    let line = record["bids"]
        .as_array()
        .and_then(|bids| {
            bids.iter()
                .find(|b| b["bidder_id"] == revoker.org.as_str())
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(line["status"], "revoked", "{record}");
    assert_eq!(line["deposit_status"], "paid");
    Ok(())
}

/// SEALED_BIDS.md "Keys": a signing key revoked after a bid's receipt does not undo the bid.
#[tokio::test]
async fn a_signing_key_revoked_after_the_receipt_leaves_the_bid_to_open() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@keyrev.test", "tenderer").await?;
    let id = app
        .published_goods_tender(&owner, "吊销签名密钥", 21)
        .await?;
    let key = opening_key(&app, &id).await?;
    let mut first = None;
    for email in ["k1@keyrev.test", "k2@keyrev.test", "k3@keyrev.test"] {
        let b = bidder(&app, email, &id).await?;
        let res = put_bid(&app, &b, &id, sealed_bid(&b, &id, &key, "3000.00")?).await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        first.get_or_insert(b);
    }
    let first = first.ok_or_else(|| anyhow::anyhow!("no bidder"))?;
    let keys: Value = app
        .get(
            &format!("/api/v1/organizations/{}/signing-keys", first.org),
            Some(&first.token),
        )
        .await?
        .json()
        .await?;
    let key_id = text(&keys["items"][0]["key_id"]);
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/organizations/{}/signing-keys/{key_id}", first.org),
            Some(&first.token),
        )
        .send()
        .await?;
    assert!(res.status().is_success());
    app.clock.advance(TimeDelta::days(21));
    drain(&app).await?;
    let record: Value = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?
        .json()
        .await?;
    let statuses: Vec<Value> = record["bids"]
        .as_array()
        .map(|b| b.iter().map(|l| l["status"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, vec![Value::from("opened"); 3], "{record}");
    Ok(())
}

/// SEALED_BIDS.md "Receipt": bids racing the deadline are each either receipted before it or
/// refused, never both and never lost: the opening holds exactly the receipted ones.
#[tokio::test]
async fn bids_racing_the_deadline_are_receipted_before_it_or_refused_never_lost() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@race.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "截止竞速", 21).await?;
    let key = opening_key(&app, &id).await?;
    let mut racers = Vec::new();
    for i in 0..8 {
        let b = bidder(&app, &format!("racer{i}@race.test"), &id).await?;
        let envelope = sealed_bid(&b, &id, &key, &format!("{}.00", 1000 + i))?;
        racers.push((b, envelope));
    }
    // The last second: uploads in flight while the clock passes the deadline.
    app.clock
        .advance(TimeDelta::days(21) - TimeDelta::milliseconds(500));
    let deadline = app.state.now() + TimeDelta::milliseconds(500);
    for (i, (b, _)) in racers.iter_mut().enumerate() {
        b.token = app
            .sign_in(&format!("racer{i}@race.test"), crate::helpers::PASSWORD)
            .await?;
    }
    // Uploads start 10 ms apart; the clock passes the deadline once three have answered, while
    // the others are on their way.
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let uploads = racers.iter().enumerate().map(|(i, (b, envelope))| {
        let answered = &answered;
        let app = &app;
        let id = &id;
        async move {
            tokio::time::sleep(std::time::Duration::from_millis(10 * i as u64)).await;
            let res = put_bid(app, b, id, envelope.clone()).await?;
            answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let status = res.status();
            let body: Value = res.json().await?;
            anyhow::Ok((b.org.clone(), status, body))
        }
    });
    let passing = async {
        while answered.load(std::sync::atomic::Ordering::SeqCst) < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        app.clock.advance(TimeDelta::seconds(1));
    };
    let (results, ()) = tokio::join!(futures_util::future::join_all(uploads), passing);
    let mut receipted = std::collections::BTreeMap::new();
    for result in results {
        let (org, status, body) = result?;
        match status {
            reqwest::StatusCode::CREATED => {
                let at = chrono::DateTime::parse_from_rfc3339(&text(&body["received_at"]))?;
                assert!(at < deadline, "a receipt after the deadline: {body}");
                receipted.insert(org, text(&body["envelope_sha256"]));
            }
            reqwest::StatusCode::CONFLICT => assert_eq!(body["code"], "deadline_passed"),
            other => anyhow::bail!("unexpected {other}: {body}"),
        }
    }
    drain(&app).await?;
    let record: Value = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?
        .json()
        .await?;
    let recorded: std::collections::BTreeMap<String, String> = record["bids"]
        .as_array()
        .map(|bids| {
            bids.iter()
                .map(|b| (text(&b["bidder_id"]), text(&b["envelope_sha256"])))
                .collect()
        })
        .unwrap_or_default();
    if receipted.len() >= 3 {
        assert_eq!(
            recorded, receipted,
            "the opening holds exactly the receipted bids"
        );
    } else {
        assert_eq!(record["status"], "failed");
    }
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
    let record: Value = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?
        .json()
        .await?;
    verify_signed_document(&record, &public)?;
    let mut changed = record.clone();
    changed["bids"][0]["fields"]["total_price"] = Value::from("1.00");
    assert!(verify_signed_document(&changed, &public).is_err());
    Ok(())
}

/// API.md "Who sees what": after the opening the bidder downloads its own decrypted bid, the
/// tenderer and supervisors every one, and nobody else; before the opening nobody does.
#[tokio::test]
async fn decrypted_bids_go_to_their_bidder_the_tenderer_and_supervisors_after_the_opening()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (owner, _) = app.member("owner@archive.test", "tenderer").await?;
    let id = app
        .published_goods_tender(&owner, "解密投标文件", 21)
        .await?;
    let key = opening_key(&app, &id).await?;
    let mut bidders = Vec::new();
    for email in ["p@archive.test", "q@archive.test", "s@archive.test"] {
        let b = bidder(&app, email, &id).await?;
        put_bid(&app, &b, &id, sealed_bid(&b, &id, &key, "8800.00")?).await?;
        bidders.push((email, b));
    }
    let path = |org: &str| format!("/api/v1/tenders/{id}/lots/1/bids/{org}/archive");
    let (_, first) = &bidders[0];
    let early = app.get(&path(&first.org), Some(&first.token)).await?;
    assert_eq!(
        early.status(),
        reqwest::StatusCode::NOT_FOUND,
        "nothing before the opening"
    );

    app.clock.advance(TimeDelta::days(21));
    drain(&app).await?;
    let owner = app
        .sign_in("owner@archive.test", crate::helpers::PASSWORD)
        .await?;
    let first_token = app.sign_in(bidders[0].0, crate::helpers::PASSWORD).await?;
    let second_token = app.sign_in(bidders[1].0, crate::helpers::PASSWORD).await?;
    let _ = supervisor;
    let supervisor = app
        .sign_in("supervisor@jianguan.test", crate::helpers::PASSWORD)
        .await?;
    for token in [&first_token, &owner, &supervisor] {
        let res = app.get(&path(&first.org), Some(token)).await?;
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        let bytes = res.bytes().await?;
        let mut archive = tar::Archive::new(&bytes[..]);
        let first_entry = archive
            .entries()?
            .next()
            .ok_or_else(|| anyhow::anyhow!("empty archive"))??;
        assert_eq!(first_entry.path()?.to_string_lossy(), "price.json");
    }
    let res = app.get(&path(&first.org), Some(&second_token)).await?;
    assert_eq!(
        res.status(),
        reqwest::StatusCode::NOT_FOUND,
        "another bidder's bid"
    );
    let res = app.get(&path(&first.org), None).await?;
    assert_eq!(res.status(), reqwest::StatusCode::UNAUTHORIZED);
    Ok(())
}
