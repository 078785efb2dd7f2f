//! The opening at the deadline and the decrypted bids after it (docs/spec/receipts-and-records.md "Opening record").

use super::*;

/// docs/spec/receipts-and-records.md "Opening record": a lot with fewer bids than the minimum (3) fails unopened: the key
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
    let record: Value = opening_record(&app, &id).await?;
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

/// docs/spec/receipts-and-records.md "Opening record": 3 good bids, 1 whose stored envelope was corrupted after its receipt
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
    let record: Value = opening_record(&app, &id).await?;
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
    let again: Value = opening_record(&app, &id).await?;
    assert_eq!(again, record);
    let unwraps = audit_actions(&app, &id)
        .await?
        .iter()
        .filter(|a| *a == "opening_key.unwrap")
        .count();
    assert_eq!(unwraps, 1);
    Ok(())
}

/// docs/spec/visibility.md: after the opening the bidder downloads its own decrypted bid, the
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

/// A bid whose archive holds `price.json` and a `size`-byte technical file of the bidder's own.
fn large_bid(bidder: &Bidder, tender: &str, to: &[u8], size: usize) -> anyhow::Result<Vec<u8>> {
    // Each bidder's own bytes: decrypted bids are stored by content.
    let mut technical: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    technical[..bidder.org.len()].copy_from_slice(bidder.org.as_bytes());
    let archive = bid_archive("8800.00", &[("技术标.pdf", &technical)])?;
    seal_archive(bidder, tender, to, &archive)
}

/// docs/spec/receipts-and-records.md "Opening record": the opening survives a crash halfway. A worker stopped while it opens
/// the bids (its work dropped mid-way, as a killed process leaves it) records nothing; after its
/// lease the job runs again, and the one record holds every bid once, each decrypted bid stored once.
#[tokio::test]
async fn an_opening_cut_off_halfway_runs_again_after_its_lease_and_records_every_bid_once()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@crash.test", "tenderer").await?;
    let id = app.published_goods_tender(&owner, "开标中断", 21).await?;
    let key = opening_key(&app, &id).await?;
    for email in ["a@crash.test", "b@crash.test", "c@crash.test"] {
        let b = bidder(&app, email, &id).await?;
        let res = put_bid(&app, &b, &id, large_bid(&b, &id, &key, 8 << 20)?).await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    }
    let envelopes = stored_objects(&app);
    assert_eq!(envelopes, 3);
    let operator = app.operator().await?;
    app.supervisor(&operator).await?;

    app.clock.advance(TimeDelta::days(21));
    let runner =
        tenderhall_workers::runner::Runner::new(tenderhall_api::cli::worker_context(&app.state)?);
    let worker = tokio::spawn(async move {
        while runner.run_one().await? {}
        anyhow::Ok(())
    });
    // Cut the worker off once the first bid is decrypted and kept, the others not yet.
    let started = std::time::Instant::now();
    while stored_objects(&app) == envelopes && !worker.is_finished() {
        anyhow::ensure!(started.elapsed().as_secs() < 60, "the opening never began");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    worker.abort();
    let _ = worker.await;
    let res = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/opening"), None)
        .await?;
    crate::helpers::assert_problem(res, reqwest::StatusCode::CONFLICT, "not_opened").await?;

    // Past the lease, another worker takes the job over and finishes it.
    app.clock.advance(TimeDelta::hours(1));
    drain(&app).await?;
    let record: Value = opening_record(&app, &id).await?;
    assert_eq!(record["status"], "opened", "{record}");
    let bids = record["bids"].as_array().cloned().unwrap_or_default();
    assert_eq!(bids.len(), 3, "{record}");
    assert!(bids.iter().all(|b| b["status"] == "opened"), "{record}");
    assert_record_signed(&app, &record).await?;
    assert_eq!(
        stored_objects(&app),
        envelopes + 3,
        "each decrypted bid kept once"
    );
    let supervisor = app
        .sign_in("supervisor@jianguan.test", crate::helpers::PASSWORD)
        .await?;
    let unwraps = || async {
        anyhow::Ok(
            chain_actions(&app, &supervisor, &id, "tender")
                .await?
                .iter()
                .filter(|a| *a == "opening_key.unwrap")
                .count(),
        )
    };
    assert_eq!(unwraps().await?, 2, "each attempt's unwrap is audited");
    // The same work asked for again (a duplicate job) changes nothing: the record is written once.
    let now = app.state.now();
    tenderhall_domain::jobs::service::enqueue(
        app.state.db(),
        tenderhall_domain::jobs::NewJob::new(
            tenderhall_domain::bid::opening::OPEN_LOT_JOB,
            serde_json::json!({"tender_id": id, "lot_id": "1"}),
            now,
            format!("lot.open:{id}:1:again"),
        ),
        now,
    )
    .await?;
    drain(&app).await?;
    assert_eq!(
        unwraps().await?,
        2,
        "an opened lot's key is not unwrapped again"
    );
    let again: Value = opening_record(&app, &id).await?;
    assert_eq!(again, record);
    Ok(())
}
