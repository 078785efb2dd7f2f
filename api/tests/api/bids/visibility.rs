//! "Who sees what" (docs/spec/api-contract.md; 电子招标投标办法 Art 21, 27), tested by difference: before the bid
//! deadline, who registered, downloaded, paid, asked or bid, and how many, is secret, so a tender
//! with all of that going on reads, to everyone who is not one of its bidders, like the same tender
//! with none of it.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;
use tenderhall_domain::id::TenderId;

use super::*;
use crate::helpers::{PASSWORD, registration};

/// What a bidder on the busy tender leaves behind: its sign-in, organization, registration and
/// accounts, and what it sent.
struct Active {
    bidder: Bidder,
    email: String,
    registration_id: String,
    deposit_account: String,
    basic_account: String,
}

/// Registers `email` with a bidder organization of its own basic account, registers it for lot 1
/// of `tender` and gives it a signing key: `bidder` of `mod.rs`, keeping what the test needs.
async fn active_bidder(
    app: &TestApp,
    email: &str,
    basic_account: &str,
    tender: &str,
) -> anyhow::Result<Active> {
    use ring::signature::KeyPair as _;
    let mut body = registration(email, "bidder");
    body["organization"]["basic_account"] = json!(basic_account);
    let res = app.post("/api/v1/accounts", &body, None).await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "account {email}: {}",
        res.text().await?
    );
    let org = text(&res.json::<Value>().await?["organization_id"]);
    let token = app.sign_in(email, PASSWORD).await?;
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
            &json!({}),
            Some(&token),
        )
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "registration {email}: {}",
        res.text().await?
    );
    let reg: Value = res.json().await?;
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
            &json!({"public_key": base64::engine::general_purpose::STANDARD.encode(key.public_key().as_ref())}),
            Some(&token),
        )
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "signing key {email}: {}",
        res.text().await?
    );
    Ok(Active {
        bidder: Bidder { token, org, key },
        email: email.to_owned(),
        registration_id: text(&reg["registration_id"]),
        deposit_account: text(&reg["deposit_account"]["account_no"]),
        basic_account: basic_account.to_owned(),
    })
}

/// Pays `amount` into `account` through the sandbox bank, from `payer` (default: the basic account).
async fn pay(
    app: &TestApp,
    account: &str,
    amount: &str,
    payer: Option<&str>,
) -> anyhow::Result<()> {
    let mut body = json!({"account_no": account, "amount": amount});
    if let Some(payer) = payer {
        body["payer_account"] = json!(payer);
    }
    let paid: Value = app
        .post("/api/v1/sandbox/bank/pay", &body, None)
        .await?
        .json()
        .await?;
    anyhow::ensure!(paid["status"] == "credited", "payment to {account}: {paid}");
    Ok(())
}

async fn upload(app: &TestApp, token: &str, tender: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let form = Form::new().text("title", "招标文件").part(
        "file",
        Part::bytes(bytes.to_vec())
            .file_name("招标文件.pdf")
            .mime_str("application/pdf")?,
    );
    let res = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tenders/{tender}/documents"),
            Some(token),
        )
        .multipart(form)
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "upload: {}",
        res.text().await?
    );
    Ok(text(&res.json::<Value>().await?["document_id"]))
}

fn parsed(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()))
}

/// The routes `/metrics` may name (api/src/telemetry.rs): reads and calls whose traffic tells
/// nothing of who registers, downloads, pays, asks or bids. Everything else is `other`.
const COUNTED_ROUTES: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/openapi.json",
    "/api/v1/platform/keys",
    "/api/v1/procedures",
    "/api/v1/calendar",
    "/api/v1/audit/heads/latest",
    "/api/v1/sessions",
    "/api/v1/sessions/current",
    "/api/v1/tenders",
    "/api/v1/tenders/{id}",
    "/api/v1/tenders/{id}/documents",
    "/api/v1/tenders/{id}/amendments",
    "/api/v1/tenders/{id}/lots/{lot}/opening",
    "other",
];

/// docs/spec/visibility.md (电子招标投标办法 Art 21, 27): before the bid deadline, registrations,
/// downloads, deposits and fees paid, questions and bids — their existence, count and identity —
/// are known only to each bidder for its own. Two tenders are published alike by one owner, with
/// the same document; on one of them five bidders register, pay (one too much, from an account not
/// its own), download, ask, bid, replace a bid, withdraw a bid and withdraw a registration, and the
/// refunds are booked. To the public, another bidder, the owner, another tenderer, a supervisor
/// and an operator, every read of the two tenders answers the same, except what the rules give
/// them: a supervisor sees each payment flag's kind, lot and count (not whom it concerns), and the
/// owner sees the question it must answer (实施条例 Art 22; not who asked). No platform-wide view
/// (the operators' refunds, `/metrics`, notifications) ties anybody to the tender.
#[tokio::test]
async fn before_the_deadline_every_read_answer_is_the_same_for_a_tender_with_activity_and_one_without()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (owner, owner_org) = app.member("owner@visible.test", "tenderer").await?;
    let (other_tenderer, _) = app.member("other@tenderer.test", "tenderer").await?;
    let (idle_bidder, _) = app.member("idle@bidder.test", "bidder").await?;
    let busy = app
        .published_goods_tender(&owner, "谁能看见什么", 21)
        .await?;
    let quiet = app
        .published_goods_tender(&owner, "谁能看见什么", 21)
        .await?;
    let document: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let busy_doc = upload(&app, &owner, &busy, &document).await?;
    upload(&app, &owner, &quiet, &document).await?;
    let key = opening_key(&app, &busy).await?;

    // An hour later the bidders come, to the busy tender only.
    app.clock.advance(TimeDelta::hours(1));
    let mut bidders = Vec::new();
    for (i, email) in [
        "a@busy.test",
        "b@busy.test",
        "c@busy.test",
        "d@busy.test",
        "e@busy.test",
    ]
    .into_iter()
    .enumerate()
    {
        bidders.push(active_bidder(&app, email, &format!("622202003000000{i}"), &busy).await?);
    }
    let [a, b, c, d, e] = &bidders[..] else {
        anyhow::bail!("five bidders");
    };
    // Deposits: b pays 2,500.00 on 2,000.00 due, from an account that is not its basic account.
    let foreign_payer = "6217000088880001";
    for x in [a, c, d, e] {
        pay(&app, &x.deposit_account, "2000.00", None).await?;
    }
    pay(&app, &b.deposit_account, "2500.00", Some(foreign_payer)).await?;
    // Downloads, a question (its asker is never shown), bids.
    for x in [a, b, c] {
        let res = app
            .get(
                &format!("/api/v1/tenders/{busy}/documents/{busy_doc}"),
                Some(&x.bidder.token),
            )
            .await?;
        assert_eq!(res.status(), StatusCode::OK, "download by {}", x.email);
        res.bytes().await?;
    }
    let question = "第二章交货期能否延长至60天？";
    let res = app
        .post(
            &format!("/api/v1/tenders/{busy}/questions"),
            &json!({"question": question}),
            Some(&d.bidder.token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let mut secrets: Vec<String> = Vec::new();
    for (x, price) in [
        (a, "95000.00"),
        (b, "93000.00"),
        (c, "97000.00"),
        (e, "99000.00"),
    ] {
        let res = put_bid(
            &app,
            &x.bidder,
            &busy,
            sealed_bid(&x.bidder, &busy, &key, price)?,
        )
        .await?;
        assert_eq!(res.status(), StatusCode::CREATED, "bid of {}", x.email);
        let receipt: Value = res.json().await?;
        secrets.push(text(&receipt["envelope_sha256"]));
    }
    app.clock.advance(TimeDelta::hours(1));
    // a replaces its bid; c withdraws its bid; e withdraws its bid and then its registration; d,
    // who never bid, withdraws its registration.
    let res = put_bid(
        &app,
        &a.bidder,
        &busy,
        sealed_bid(&a.bidder, &busy, &key, "94000.00")?,
    )
    .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "replacement");
    secrets.push(text(&res.json::<Value>().await?["envelope_sha256"]));
    for x in [c, e] {
        let res = app
            .delete(
                &format!("/api/v1/tenders/{busy}/lots/1/bid"),
                Some(&x.bidder.token),
            )
            .await?;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "bid withdrawal of {}",
            x.email
        );
    }
    for x in [d, e] {
        let res = app
            .delete(
                &format!(
                    "/api/v1/tenders/{busy}/lots/1/registrations/{}",
                    x.registration_id
                ),
                Some(&x.bidder.token),
            )
            .await?;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "registration withdrawal of {}: {}",
            x.email,
            res.text().await?
        );
    }
    drain(&app).await?;
    app.clock.advance(TimeDelta::hours(1));
    drain(&app).await?;

    // The activity happened: the refunds are booked (b's 500.00 overpaid, c's and e's withdrawn
    // bids, d's withdrawn registration) and b's payer is flagged.
    let refunds = tenderhall_domain::deposit::service::list_refunds(
        app.state.db(),
        Some(&TenderId::parse(&busy)?),
        None,
    )
    .await?;
    let mut reasons: Vec<&str> = refunds.iter().map(|r| r.reason.as_str()).collect();
    reasons.sort_unstable();
    assert_eq!(
        reasons,
        ["overpaid", "withdrawn", "withdrawn", "withdrawn"],
        "refunds booked: {refunds:?}"
    );
    assert!(
        refunds.iter().all(|r| r.status == "confirmed"),
        "refunds paid: {refunds:?}"
    );
    assert!(
        tenderhall_domain::deposit::service::list_refunds(
            app.state.db(),
            Some(&TenderId::parse(&quiet)?),
            None
        )
        .await?
        .is_empty()
    );

    for x in &bidders {
        secrets.extend([
            x.bidder.org.clone(),
            x.email.clone(),
            x.registration_id.clone(),
            x.deposit_account.clone(),
            x.basic_account.clone(),
        ]);
    }
    secrets.push(foreign_payer.to_owned());
    secrets.push(question.to_owned());
    let questions_path = "/api/v1/tenders/{id}/questions";
    let viewers: [(&str, Option<&str>); 6] = [
        ("public", None),
        ("idle bidder", Some(&idle_bidder)),
        ("tenderer", Some(&owner)),
        ("other tenderer", Some(&other_tenderer)),
        ("supervisor", Some(&supervisor)),
        ("operator", Some(&operator)),
    ];
    let paths = [
        "/api/v1/tenders/{id}",
        "/api/v1/tenders/{id}/amendments",
        questions_path,
        "/api/v1/tenders/{id}/documents",
        "/api/v1/tenders/{id}/downloads",
        "/api/v1/tenders/{id}/audit",
        "/api/v1/tenders/{id}/audit?chain=sealed",
        "/api/v1/tenders/{id}/flags",
        "/api/v1/tenders/{id}/lots/1/deposits",
        "/api/v1/tenders/{id}/lots/1/bid",
        "/api/v1/tenders/{id}/lots/1/opening",
        "/api/v1/bank/refunds?tender_id={id}",
    ];
    for (who, token) in viewers {
        for path in paths {
            let (status_a, body_a) = seen(&app, path, &busy, token).await?;
            let (status_b, body_b) = seen(&app, path, &quiet, token).await?;
            assert_eq!(
                status_a, status_b,
                "{who} GET {path}: status differs\n busy:  {body_a}\n quiet: {body_b}"
            );
            // Only the owner may read the question it has to answer; everything else about a
            // bidder is hidden from every viewer, the owner included.
            for secret in secrets
                .iter()
                .filter(|s| !(who == "tenderer" && path == questions_path && *s == question))
            {
                assert!(
                    !body_a.contains(secret.as_str()),
                    "{who} GET {path} shows {secret}: {body_a}"
                );
            }
            let (a_view, b_view) = (parsed(&body_a), parsed(&body_b));
            if who == "supervisor" && path.ends_with("/flags") {
                // Allowed: supervisors see a flag (kind, lot, count), not whom or which account.
                for item in a_view["items"].as_array().into_iter().flatten() {
                    for hidden in [
                        "organization_id",
                        "account_no",
                        "payer_account",
                        "detail",
                        "raised_at",
                    ] {
                        assert!(
                            item[hidden].is_null(),
                            "{who} GET {path} shows {hidden}: {body_a}"
                        );
                    }
                }
                assert!(
                    !body_a.contains("org_") && !body_a.contains(&owner_org),
                    "{who} GET {path} names an organization: {body_a}"
                );
                assert!(
                    body_a.contains("payer_mismatch"),
                    "{who} GET {path}: the flag itself is shown: {body_a}"
                );
                continue;
            }
            if who == "tenderer" && path == questions_path {
                // Allowed (实施条例 Art 22): the owner reads the question it has to answer, never
                // who asked. Nothing but the question is added.
                let items = a_view["items"].as_array().cloned().unwrap_or_default();
                assert_eq!(items.len(), 1, "{who} GET {path}: {body_a}");
                assert_eq!(items[0]["question"], question, "{who} GET {path}");
                assert_eq!(items[0]["mine"], false, "{who} GET {path}");
                let mut fields: Vec<&str> = items[0]
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                fields.sort_unstable();
                assert_eq!(
                    fields,
                    [
                        "answer",
                        "answered_at",
                        "asked_at",
                        "mine",
                        "question",
                        "question_id"
                    ],
                    "{who} GET {path}: {body_a}"
                );
                let mut without_question = a_view.clone();
                without_question["items"] = json!([]);
                assert_eq!(
                    normalized(without_question, &busy, &quiet),
                    normalized(b_view, &quiet, &quiet),
                    "{who} GET {path}: differs beyond the question\n busy:  {body_a}\n quiet: {body_b}"
                );
                continue;
            }
            assert_eq!(
                normalized(a_view, &busy, &quiet),
                normalized(b_view, &quiet, &quiet),
                "{who} GET {path}: body differs\n busy:  {body_a}\n quiet: {body_b}"
            );
        }
    }

    // The portal's pages read alike too.
    super::pages::pages_read_alike(&app, &busy, &quiet, &viewers, &secrets, question).await?;

    // The tender list shows the two alike.
    let list: Value = app.get("/api/v1/tenders", None).await?.json().await?;
    let entry = |id: &str| {
        list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|t| t["id"] == id).cloned())
            .unwrap_or_default()
    };
    assert!(!entry(&busy).is_null(), "busy tender listed: {list}");
    assert_eq!(
        normalized(entry(&busy), &busy, &quiet),
        normalized(entry(&quiet), &quiet, &quiet),
        "public GET /api/v1/tenders: the entries differ"
    );

    // The operators' refunds, platform-wide: each transfer, never the tender, payer or reason.
    let res = app.get("/api/v1/bank/refunds", Some(&operator)).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await?;
    let all = parsed(&body);
    let items = all["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        items.len(),
        4,
        "operator GET /api/v1/bank/refunds lists the refunds: {body}"
    );
    for item in &items {
        for hidden in ["tender_id", "organization_id", "reason"] {
            assert!(
                item[hidden].is_null(),
                "operator GET /api/v1/bank/refunds shows {hidden} before the deadline: {item}"
            );
        }
    }
    assert!(
        !body.contains(&busy),
        "operator GET /api/v1/bank/refunds names the tender: {body}"
    );
    for x in &bidders {
        for secret in [&x.bidder.org, &x.email, &x.registration_id] {
            assert!(
                !body.contains(secret.as_str()),
                "operator GET /api/v1/bank/refunds shows {secret}: {body}"
            );
        }
    }

    // `/metrics` names no route outside the allow-list, and nothing of a bidder or the tender.
    let metrics = app.get("/metrics", None).await?.text().await?;
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let mut labels = line;
        while let Some(start) = labels.find("route=\"") {
            let after = &labels[start + "route=\"".len()..];
            let route = after.split('"').next().unwrap_or_default();
            assert!(
                COUNTED_ROUTES.contains(&route),
                "/metrics names the route {route}: {line}"
            );
            labels = &after[route.len()..];
        }
        for forbidden in [
            "registrations",
            "/bid",
            "document-fee",
            "documents/{document_id}",
            "questions",
            "bank",
        ] {
            assert!(
                !line.contains(forbidden),
                "/metrics counts {forbidden}: {line}"
            );
        }
    }
    for secret in secrets.iter().chain([&busy, &quiet]) {
        assert!(
            !metrics.contains(secret.as_str()),
            "/metrics shows {secret}"
        );
    }

    // Nobody's notifications tell of the busy tender's bidders (the owner is told a question was
    // asked, not by whom).
    for (who, token) in viewers {
        let Some(token) = token else { continue };
        let res = app.get("/api/v1/notifications", Some(token)).await?;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{who} GET /api/v1/notifications"
        );
        let body = res.text().await?;
        for secret in secrets
            .iter()
            .filter(|s| !(who == "tenderer" && *s == question))
        {
            assert!(
                !body.contains(secret.as_str()),
                "{who} GET /api/v1/notifications shows {secret}: {body}"
            );
        }
    }
    app.assert_ledger_sound().await?;
    Ok(())
}
