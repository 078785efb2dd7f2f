//! Submitting, replacing and withdrawing sealed bids, and the deadline (docs/spec/receipts-and-records.md "Receipt").

use super::*;

/// docs/spec/receipts-and-records.md "Receipt": a receipt signed by the platform key after the envelope is stored;
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

/// the upload checks of docs/spec/envelope.md: each refusal with its code, and nothing kept in the store.
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

/// docs/spec/envelope.md: a bid after the deadline (server time) is 409 `deadline_passed` and not
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

/// docs/spec/receipts-and-records.md "Receipt": bids racing the deadline are each either receipted before it or
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
    let record: Value = opening_record(&app, &id).await?;
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
