//! Deposits and fees (docs/spec/api-contract.md "Deposits and fees"; 实施条例 Art 26, 40; 电子招标投标办法 Art 20–21):
//! registration with a virtual account, the bank's signed notifications credited once, suspense,
//! the ledger invariant after every scenario, the deposit status at the deadline, the fee gate on
//! documents, and flags that only supervisors see.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tenderhall_domain::deposit::{is_account_no, sign_notification};
use tenderhall_domain::id::RegistrationId;

use crate::helpers::{PASSWORD, TestApp, TestResult, assert_problem, text};

const SECRET: &[u8] = b"sandbox-bank-secret";

/// Sends `body` as the bank would, signed at `app`'s time shifted by `skew_seconds`.
async fn bank(app: &TestApp, body: &str, skew_seconds: i64) -> anyhow::Result<reqwest::Response> {
    let ts = app.state.now().timestamp() + skew_seconds;
    let signature = sign_notification(SECRET, ts, body.as_bytes());
    Ok(app
        .request(reqwest::Method::POST, "/api/v1/bank/notifications", None)
        .header("content-type", "application/json")
        .header("x-bank-timestamp", ts.to_string())
        .header("x-bank-signature", signature)
        .body(body.to_owned())
        .send()
        .await?)
}

pub(crate) fn payment(txn: &str, account_no: &str, amount: &str, payer: &str) -> String {
    json!({
        "bank_txn_id": txn, "account_no": account_no, "amount": amount,
        "paid_at": "2026-11-28T08:00:00Z", "payer_name": "投标人", "payer_account": payer,
    })
    .to_string()
}

/// The basic account `TestApp::register` gives every organization.
pub(crate) const BASIC: &str = "6222 0200 1234 5678";

pub(crate) async fn count(app: &TestApp, table: &str) -> anyhow::Result<i64> {
    use sea_orm::ConnectionTrait;
    let db = app.state.db();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

pub(crate) async fn registered(
    app: &TestApp,
    bidder: &str,
    tender: &str,
) -> anyhow::Result<(StatusCode, Value)> {
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
            &json!({}),
            Some(bidder),
        )
        .await?;
    Ok((res.status(), res.json().await?))
}

#[tokio::test]
async fn a_bidder_registers_once_per_lot_and_gets_a_random_checked_virtual_account() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@reg.test", "tenderer").await?;
    let (bidder, bidder_org) = app.member("bidder@reg.test", "bidder").await?;
    let (other, _) = app.member("other@reg.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "报名测试", 21).await?;

    let (status, first) = registered(&app, &bidder, &id).await?;
    assert_eq!(status, StatusCode::CREATED);
    let account = text(&first["deposit_account"]["account_no"]);
    assert!(is_account_no(&account), "{account}");
    assert_eq!(first["deposit_account"]["amount_due"]["amount"], "2000.00");
    assert_eq!(first["organization_id"], bidder_org.as_str());
    let (status, again) = registered(&app, &bidder, &id).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["registration_id"], first["registration_id"]);
    let (_, theirs) = registered(&app, &other, &id).await?;
    assert_ne!(theirs["deposit_account"]["account_no"], account.as_str());

    // Only bidders register; an unknown lot is not found; after the deadline nobody registers.
    assert_problem(
        app.post(
            &format!("/api/v1/tenders/{id}/lots/1/registrations"),
            &json!({}),
            Some(&owner),
        )
        .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    assert_problem(
        app.post(
            &format!("/api/v1/tenders/{id}/lots/9/registrations"),
            &json!({}),
            Some(&bidder),
        )
        .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    app.clock.advance(TimeDelta::days(21));
    let (late, _) = app.member("late@reg.test", "bidder").await?;
    assert_problem(
        app.post(
            &format!("/api/v1/tenders/{id}/lots/1/registrations"),
            &json!({}),
            Some(&late),
        )
        .await?,
        StatusCode::CONFLICT,
        "deadline_passed",
    )
    .await?;
    Ok(())
}

/// 实施条例 Art 35: a bidder may withdraw before the deadline; nothing in the law shuts it out of the
/// lot afterwards. Registering again opens a new registration with a new deposit account, which
/// takes payments and bids; the old account stays closed.
#[tokio::test]
async fn a_bidder_that_withdrew_its_registration_registers_again_with_a_new_account() -> TestResult
{
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@again.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@again.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "重新报名", 21).await?;
    let (_, first) = registered(&app, &bidder, &id).await?;
    let first_id = text(&first["registration_id"]);
    let res = app
        .delete(
            &format!("/api/v1/tenders/{id}/lots/1/registrations/{first_id}"),
            Some(&bidder),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);

    let (status, second) = registered(&app, &bidder, &id).await?;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(second["registration_id"], first["registration_id"]);
    let account = text(&second["deposit_account"]["account_no"]);
    assert_ne!(account, text(&first["deposit_account"]["account_no"]));
    let paid = app
        .post(
            "/api/v1/sandbox/bank/pay",
            &json!({"account_no": account, "amount": "2000.00"}),
            None,
        )
        .await?
        .json::<Value>()
        .await?;
    assert_eq!(paid["status"], "credited", "{paid}");
    // The bidder follows its own deposit from registration on, before it has bid.
    let second_id = text(&second["registration_id"]);
    let own: Value = app
        .get(
            &format!("/api/v1/tenders/{id}/lots/1/registrations/{second_id}"),
            Some(&bidder),
        )
        .await?
        .json()
        .await?;
    assert_eq!(own["status"], "active");
    assert_eq!(own["deposit_status"], "paid");
    assert_eq!(own["paid"]["amount"], "2000.00");
    let old: Value = app
        .get(
            &format!("/api/v1/tenders/{id}/lots/1/registrations/{first_id}"),
            Some(&bidder),
        )
        .await?
        .json()
        .await?;
    assert_eq!(old["status"], "withdrawn");
    // Nobody else learns of it.
    assert_problem(
        app.get(
            &format!("/api/v1/tenders/{id}/lots/1/registrations/{second_id}"),
            Some(&owner),
        )
        .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    // Registering once more while active gives the same registration back.
    let (status, again) = registered(&app, &bidder, &id).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["registration_id"], second["registration_id"]);
    app.assert_ledger_sound().await?;
    Ok(())
}

#[tokio::test]
async fn the_same_notification_100_times_at_once_is_credited_once() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@once.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@once.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "重复通知", 21).await?;
    let (_, reg) = registered(&app, &bidder, &id).await?;
    let account = text(&reg["deposit_account"]["account_no"]);
    let body = payment("TXN-ONCE-1", &account, "2000.00", BASIC);

    let sends = (0..100).map(|_| bank(&app, &body, 0));
    let answers = futures_util::future::join_all(sends).await;
    let mut statuses = Vec::new();
    for answer in answers {
        let res = answer?;
        assert_eq!(res.status(), StatusCode::OK);
        statuses.push(text(&res.json::<Value>().await?["status"]));
    }
    assert_eq!(statuses.iter().filter(|s| *s == "credited").count(), 1);
    assert_eq!(statuses.iter().filter(|s| *s == "duplicate").count(), 99);
    assert_eq!(count(&app, "bank_notifications").await?, 1);
    assert_eq!(count(&app, "journal_entries").await?, 1);
    app.assert_ledger_sound().await?;

    // The same id with another body is a conflict, and changes nothing.
    let changed = payment("TXN-ONCE-1", &account, "20000.00", BASIC);
    assert_problem(
        bank(&app, &changed, 0).await?,
        StatusCode::CONFLICT,
        "txn_conflict",
    )
    .await?;
    assert_eq!(count(&app, "journal_entries").await?, 1);
    app.assert_ledger_sound().await?;
    Ok(())
}

#[tokio::test]
async fn forged_stale_altered_and_malformed_notifications_are_refused_and_record_nothing()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@forged.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@forged.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "伪造通知", 21).await?;
    let (_, reg) = registered(&app, &bidder, &id).await?;
    let account = text(&reg["deposit_account"]["account_no"]);
    let good = payment("TXN-F-1", &account, "2000.00", BASIC);
    let ts = app.state.now().timestamp();

    // Forged: signed with another secret.
    let forged = app
        .request(reqwest::Method::POST, "/api/v1/bank/notifications", None)
        .header("content-type", "application/json")
        .header("x-bank-timestamp", ts.to_string())
        .header(
            "x-bank-signature",
            sign_notification(b"guessed", ts, good.as_bytes()),
        )
        .body(good.clone())
        .send()
        .await?;
    assert_problem(forged, StatusCode::UNAUTHORIZED, "bad_signature").await?;
    // Stale, either way.
    for skew in [-301, 301] {
        assert_problem(
            bank(&app, &good, skew).await?,
            StatusCode::UNAUTHORIZED,
            "stale_timestamp",
        )
        .await?;
    }
    // Changed after signing.
    let signature = sign_notification(SECRET, ts, good.as_bytes());
    let altered = app
        .request(reqwest::Method::POST, "/api/v1/bank/notifications", None)
        .header("content-type", "application/json")
        .header("x-bank-timestamp", ts.to_string())
        .header("x-bank-signature", signature)
        .body(good.replace("2000.00", "9000.00"))
        .send()
        .await?;
    assert_problem(altered, StatusCode::UNAUTHORIZED, "bad_signature").await?;
    // Signed, but a negative, a zero or a non-numeric amount, or an unknown currency.
    for (n, amount) in ["-5.00", "0", "abc", "1e3", "12.345"].iter().enumerate() {
        let body = payment(&format!("TXN-BAD-{n}"), &account, amount, BASIC);
        let problem = assert_problem(
            bank(&app, &body, 0).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await?;
        assert_eq!(problem["field"], "amount", "{amount}");
    }
    let mut dollars: Value = serde_json::from_str(&good)?;
    dollars["bank_txn_id"] = json!("TXN-USD");
    dollars["currency"] = json!("USD");
    let problem = assert_problem(
        bank(&app, &dollars.to_string(), 0).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    assert_eq!(problem["field"], "currency");
    // Signed, but above the largest payment one notification may carry (10 billion CNY by default).
    let body = payment("TXN-HUGE", &account, "10000000000.01", BASIC);
    let problem = assert_problem(
        bank(&app, &body, 0).await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    assert_eq!(problem["field"], "amount");
    // Signed at i64::MIN + now: the window's arithmetic must not wrap it into the last 5 minutes.
    let wrapped = i64::MIN.wrapping_add(ts);
    let res = app
        .request(reqwest::Method::POST, "/api/v1/bank/notifications", None)
        .header("content-type", "application/json")
        .header("x-bank-timestamp", wrapped.to_string())
        .header(
            "x-bank-signature",
            sign_notification(SECRET, wrapped, good.as_bytes()),
        )
        .body(good.clone())
        .send()
        .await?;
    assert_problem(res, StatusCode::UNAUTHORIZED, "stale_timestamp").await?;

    assert_eq!(count(&app, "bank_notifications").await?, 0);
    assert_eq!(count(&app, "journal_entries").await?, 0);
    assert_eq!(count(&app, "postings").await?, 0);
    Ok(())
}

/// `ledger check` sums exactly: ten thousand notifications of 10 trillion CNY each (the largest
/// amount the platform represents, allowed here by a raised per-notification maximum) add up past
/// 2^63 fen; the check still balances them instead of overflowing.
#[tokio::test]
async fn the_ledger_check_sums_past_64_bits_exactly() -> TestResult {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn_with(|s| {
        s.sandbox = true;
        s.max_notification_amount = Some("10000000000000.00".to_owned());
    })
    .await?;
    let body = payment("TXN-BIG", "955880000000000000", "10000000000000.00", BASIC);
    let res = bank(&app, &body, 0).await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    // 9,999 copies of that payment's records, as if the bank had sent them one by one.
    let copies = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)";
    let db = app.state.db();
    for statement in [
        format!(
            "INSERT INTO journal_entries (id, at, kind, tender_id, reference, memo) {copies} \
             SELECT e.id || '-' || n.i, e.at, e.kind, e.tender_id, e.reference || '-' || n.i, e.memo \
             FROM journal_entries e, n"
        ),
        format!(
            "INSERT INTO postings (entry_id, account, amount_fen, currency) {copies} \
             SELECT p.entry_id || '-' || n.i, p.account, p.amount_fen, p.currency FROM postings p, n"
        ),
        format!(
            "INSERT INTO bank_notifications (bank_txn_id, body_sha256, account_no, amount_fen, \
             currency, paid_at, payer_name, payer_account, outcome, entry_id, received_at) {copies} \
             SELECT b.bank_txn_id || '-' || n.i, b.body_sha256, b.account_no, b.amount_fen, \
             b.currency, b.paid_at, b.payer_name, b.payer_account, b.outcome, \
             b.entry_id || '-' || n.i, b.received_at FROM bank_notifications b, n"
        ),
    ] {
        db.execute_unprepared(&statement).await?;
    }
    let report = tenderhall_domain::deposit::service::check_ledger(db).await?;
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(report.entries, 10_000);
    assert_eq!(
        report.balances.get("bank").copied(),
        Some(10_000 * 1_000_000_000_000_000_i128)
    );
    Ok(())
}

#[tokio::test]
async fn a_payment_to_an_unknown_account_goes_to_suspense_which_only_operators_see() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (bidder, _) = app.member("bidder@suspense.test", "bidder").await?;
    let body = payment(
        "TXN-S-1",
        "955880000000000000",
        "150.00",
        "6222000011112222",
    );
    let res = bank(&app, &body, 0).await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await?["status"], "suspense");
    app.assert_ledger_sound().await?;

    let operator = app.operator().await?;
    let held: Value = app
        .get("/api/v1/bank/suspense", Some(&operator))
        .await?
        .json()
        .await?;
    assert_eq!(held["items"][0]["bank_txn_id"], "TXN-S-1");
    assert_eq!(held["items"][0]["amount"]["amount"], "150.00");
    assert_problem(
        app.get("/api/v1/bank/suspense", Some(&bidder)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn partial_payments_add_up_and_only_money_in_before_the_deadline_counts() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@status.test", "tenderer").await?;
    let (early, _) = app.member("early@status.test", "bidder").await?;
    let (late, _) = app.member("late@status.test", "bidder").await?;
    let (never, _) = app.member("never@status.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "到账测试", 21).await?;
    let (_, a) = registered(&app, &early, &id).await?;
    let (_, b) = registered(&app, &late, &id).await?;
    registered(&app, &never, &id).await?;
    let a_no = text(&a["deposit_account"]["account_no"]);
    let b_no = text(&b["deposit_account"]["account_no"]);

    // Two instalments make the whole deposit; the second bidder pays half in time.
    for (txn, acct, amount) in [
        ("P-1", &a_no, "500.00"),
        ("P-2", &a_no, "1500.00"),
        ("P-3", &b_no, "1000.00"),
    ] {
        let res = bank(&app, &payment(txn, acct, amount, BASIC), 0).await?;
        assert_eq!(res.json::<Value>().await?["status"], "credited");
    }
    // The owner sees nothing before the deadline.
    let deposits = format!("/api/v1/tenders/{id}/lots/1/deposits");
    assert_problem(
        app.get(&deposits, Some(&owner)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    // The rest arrives one second after the deadline: too late for the status.
    app.clock
        .advance(TimeDelta::days(21) + TimeDelta::seconds(1));
    bank(&app, &payment("P-4", &b_no, "1000.00", BASIC), 0).await?;

    let owner = app.sign_in("owner@status.test", PASSWORD).await?;
    let view: Value = app.get(&deposits, Some(&owner)).await?.json().await?;
    let by_account = |no: &str| {
        view["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["account_no"] == no).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(by_account(&a_no)["status"], "paid");
    assert_eq!(by_account(&a_no)["paid"]["amount"], "2000.00");
    assert_eq!(by_account(&b_no)["status"], "partial");
    assert_eq!(by_account(&b_no)["paid_by_deadline"]["amount"], "1000.00");
    assert_eq!(by_account(&b_no)["paid"]["amount"], "2000.00");
    let statuses: Vec<String> = view["items"]
        .as_array()
        .map(|items| items.iter().map(|i| text(&i["status"])).collect())
        .unwrap_or_default();
    assert!(statuses.contains(&"unpaid".to_owned()));

    // The domain query the opening record will read.
    let reg_id = text(&a["registration_id"]);
    assert_eq!(
        tenderhall_domain::deposit::service::deposit_status(
            app.state.db(),
            &RegistrationId::parse(&reg_id)?
        )
        .await?
        .as_str(),
        "paid"
    );
    // Other bidders never see the deposits.
    let early = app.sign_in("early@status.test", PASSWORD).await?;
    assert_problem(
        app.get(&deposits, Some(&early)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    app.assert_ledger_sound().await?;
    Ok(())
}

#[tokio::test]
async fn art_26_40_two_bidders_paying_from_one_account_are_flagged_to_supervisors_named_after_the_deadline()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (owner, _) = app.member("owner@flag.test", "tenderer").await?;
    let (first, first_org) = app.member("first@flag.test", "bidder").await?;
    let (second, second_org) = app.member("second@flag.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "串标预警", 21).await?;
    let (_, a) = registered(&app, &first, &id).await?;
    let (_, b) = registered(&app, &second, &id).await?;
    // Both deposits from one account, which is neither bidder's basic account.
    let shared = "6228 4800 0000 0001";
    for (txn, reg) in [("SH-1", &a), ("SH-2", &b)] {
        let acct = text(&reg["deposit_account"]["account_no"]);
        bank(&app, &payment(txn, &acct, "2000.00", shared), 0).await?;
    }
    let flags_path = format!("/api/v1/tenders/{id}/flags");
    // Before the deadline supervisors see each kind and lot with its count, not whom it concerns
    // (docs/spec/visibility.md: who was flagged would tell who registered and paid).
    let flags: Value = app
        .get(&flags_path, Some(&supervisor))
        .await?
        .json()
        .await?;
    let items = flags["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{items:?}");
    for kind in ["shared_payer", "payer_mismatch"] {
        let flag = items.iter().find(|f| f["kind"] == kind);
        assert_eq!(
            flag.map(|f| (f["lot_id"].clone(), f["count"].clone())),
            Some((json!("1"), json!(2))),
            "{items:?}"
        );
    }
    for org in [&first_org, &second_org] {
        assert!(!flags.to_string().contains(org.as_str()), "{flags}");
    }
    assert!(!flags.to_string().contains("62284800"), "{flags}");
    // Nobody else sees them: not the owner, not the bidders.
    for token in [&owner, &first, &second] {
        assert_problem(
            app.get(&format!("/api/v1/tenders/{id}/flags"), Some(token))
                .await?,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await?;
    }
    // After the deadline the owner sees the deposits, still without the flags.
    app.clock.advance(TimeDelta::days(21));
    let owner = app.sign_in("owner@flag.test", PASSWORD).await?;
    let view = app
        .get(
            &format!("/api/v1/tenders/{id}/lots/1/deposits"),
            Some(&owner),
        )
        .await?
        .text()
        .await?;
    assert!(!view.contains("shared_payer") && !view.contains("payer_mismatch"));
    // Supervisors now see each flag with the organization it concerns.
    let supervisor = app.sign_in("supervisor@jianguan.test", PASSWORD).await?;
    let flags: Value = app
        .get(&flags_path, Some(&supervisor))
        .await?
        .json()
        .await?;
    let items = flags["items"].as_array().cloned().unwrap_or_default();
    let of = |kind: &str, org: &str| {
        items
            .iter()
            .filter(|f| f["kind"] == kind && f["organization_id"] == org)
            .count()
    };
    for org in [&first_org, &second_org] {
        assert_eq!(of("shared_payer", org), 1, "{items:?}");
        assert_eq!(of("payer_mismatch", org), 1, "{items:?}");
    }
    app.assert_ledger_sound().await?;
    Ok(())
}

#[tokio::test]
async fn documents_of_a_tender_with_a_fee_answer_402_until_the_fee_is_paid() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@fee.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@fee.test", "bidder").await?;
    let body = json!({
        "title": "收费文件", "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
        "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
        "document_fee": "200",
        "bid_deadline": (app.state.now() + TimeDelta::days(21)).to_rfc3339(),
    });
    let id = app.publish_tender(&owner, &body).await?;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"paid documents".to_vec()).file_name("招标文件.pdf"),
    );
    let doc: Value = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tenders/{id}/documents"),
            Some(&owner),
        )
        .multipart(form)
        .send()
        .await?
        .json()
        .await?;
    let path = format!(
        "/api/v1/tenders/{id}/documents/{}",
        text(&doc["document_id"])
    );

    assert_problem(
        app.get(&path, Some(&bidder)).await?,
        StatusCode::PAYMENT_REQUIRED,
        "fee_unpaid",
    )
    .await?;
    // The owner reads its own documents.
    assert_eq!(app.get(&path, Some(&owner)).await?.status(), StatusCode::OK);
    // No registration needed: the fee account, then the sandbox bank.
    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/document-fee"),
            &json!({}),
            Some(&bidder),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let fee: Value = res.json().await?;
    assert_eq!(fee["amount_due"]["amount"], "200.00");
    let account = text(&fee["account_no"]);
    // Half the fee is not the fee.
    let paid = app
        .post(
            "/api/v1/sandbox/bank/pay",
            &json!({"account_no": account, "amount": "100.00"}),
            None,
        )
        .await?;
    assert_eq!(paid.json::<Value>().await?["status"], "credited");
    assert_eq!(
        app.get(&path, Some(&bidder)).await?.status(),
        StatusCode::PAYMENT_REQUIRED
    );
    app.post(
        "/api/v1/sandbox/bank/pay",
        &json!({"account_no": account, "amount": "100.00"}),
        None,
    )
    .await?;
    let res = app.get(&path, Some(&bidder)).await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await?.as_ref(), b"paid documents");
    app.assert_ledger_sound().await?;
    // The fee is earned once, as the tender's fee income.
    let report = tenderhall_domain::deposit::service::check_ledger(app.state.db()).await?;
    assert_eq!(
        report.balances.get(&format!("fee_income:{id}")),
        Some(&-20_000)
    );
    Ok(())
}

#[tokio::test]
async fn the_sandbox_bank_is_refused_on_a_production_server() -> TestResult {
    let app = TestApp::spawn().await?;
    assert_problem(
        app.post(
            "/api/v1/sandbox/bank/pay",
            &json!({"account_no": "955880000000000000", "amount": "1.00"}),
            None,
        )
        .await?,
        StatusCode::FORBIDDEN,
        "sandbox_only",
    )
    .await?;
    // Without a bank secret, notifications are refused rather than trusted.
    let res = bank(&app, &payment("T", "955880000000000000", "1.00", BASIC), 0).await?;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    Ok(())
}
