//! Refunds and forfeits (docs/spec/rules.md "Money"; 实施条例 Art 31, 35, 57, 74; 87号令 Art 38): booked with
//! interest to the day, instructed to the bank by a job within the legal time, settled by the bank's
//! confirmation once, retried and shown to operators when they fail; the ledger balances after
//! every scenario.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tenderhall_api::cli::worker_context;
use tenderhall_domain::deposit::service::{
    check_ledger, forfeit_registration, list_refunds, refund_after_contract,
    refund_losers_after_award,
};
use tenderhall_domain::deposit::sign_notification;
use tenderhall_domain::id::{LotId, RegistrationId, TenderId};
use tenderhall_workers::runner::Runner;

use crate::helpers::{PASSWORD, TestApp, TestResult, assert_problem, text};

/// Registers `token`'s organization for lot 1 and pays `amount` through the sandbox bank.
async fn register_and_pay(
    app: &TestApp,
    token: &str,
    tender: &str,
    amount: &str,
) -> anyhow::Result<(String, String)> {
    let reg: Value = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
            &json!({}),
            Some(token),
        )
        .await?
        .json()
        .await?;
    let account = text(&reg["deposit_account"]["account_no"]);
    if amount != "0" {
        let paid: Value = app
            .post(
                "/api/v1/sandbox/bank/pay",
                &json!({"account_no": account, "amount": amount}),
                None,
            )
            .await?
            .json()
            .await?;
        anyhow::ensure!(paid["status"] == "credited", "{paid}");
    }
    Ok((text(&reg["registration_id"]), account))
}

async fn drain(app: &TestApp) -> anyhow::Result<()> {
    let runner = Runner::new(worker_context(&app.state)?);
    while runner.run_one().await? {}
    Ok(())
}

#[tokio::test]
async fn art_35_a_withdrawal_before_the_deadline_is_refunded_within_5_days_with_interest_to_the_day()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@wd.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@wd.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "撤回报名", 21).await?;
    let (reg, account) = register_and_pay(&app, &bidder, &id, "2000.00").await?;
    drain(&app).await?;

    // Held ten days and a few hours: interest for ten days, at 0.35 % a year over 360 days:
    // 200,000 fen × 0.0035 × 10 / 360 = 19.44 → 19 fen.
    app.clock.advance(TimeDelta::days(10) + TimeDelta::hours(5));
    let bidder = app.sign_in("bidder@wd.test", PASSWORD).await?;
    let res = app
        .delete(
            &format!("/api/v1/tenders/{id}/lots/1/registrations/{reg}"),
            Some(&bidder),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let withdrawn: Value = res.json().await?;
    let refund_id = text(&withdrawn["refund_id"]);
    let withdrawn_at = app.state.now();
    drain(&app).await?;

    let refunds = list_refunds(app.state.db(), Some(&TenderId::parse(&id)?), None).await?;
    assert_eq!(refunds.len(), 1);
    let refund = &refunds[0];
    assert_eq!(refund.id, refund_id);
    assert_eq!(refund.reason, "withdrawn");
    assert_eq!(refund.principal_fen, 200_000);
    assert_eq!(refund.interest_fen, 19);
    assert_eq!(refund.status, "confirmed");
    assert_eq!(refund.due_by, withdrawn_at + TimeDelta::days(5));
    assert!(refund.instructed_at.is_some_and(|t| t <= refund.due_by));

    // Withdrawn twice is refused; a payment to the closed account goes to suspense.
    assert_problem(
        app.delete(
            &format!("/api/v1/tenders/{id}/lots/1/registrations/{reg}"),
            Some(&bidder),
        )
        .await?,
        StatusCode::CONFLICT,
        "already_withdrawn",
    )
    .await?;
    let late: Value = app
        .post(
            "/api/v1/sandbox/bank/pay",
            &json!({"account_no": account, "amount": "10.00"}),
            None,
        )
        .await?
        .json()
        .await?;
    assert_eq!(late["status"], "suspense");
    let report = check_ledger(app.state.db()).await?;
    assert!(report.is_sound(), "{report:?}");
    // What came in (2,000.00 + 10.00 in suspense + 0.19 interest) less what went out (2,000.19).
    assert_eq!(report.balances.get("bank"), Some(&1_000));
    Ok(())
}

#[tokio::test]
async fn art_31_a_cancelled_tender_refunds_every_deposit_and_fee_with_interest() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@cx.test", "tenderer").await?;
    let (a, _) = app.member("a@cx.test", "bidder").await?;
    let (b, _) = app.member("b@cx.test", "bidder").await?;
    let (c, _) = app.member("c@cx.test", "bidder").await?;
    let body = json!({
        "title": "终止退款", "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
        "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
        "document_fee": "300",
        "bid_deadline": (app.state.now() + TimeDelta::days(21)).to_rfc3339(),
    });
    let id = app.publish_tender(&owner, &body).await?;
    register_and_pay(&app, &a, &id, "2000.00").await?;
    register_and_pay(&app, &b, &id, "800.00").await?;
    register_and_pay(&app, &c, &id, "0").await?;
    let fee: Value = app
        .post(
            &format!("/api/v1/tenders/{id}/document-fee"),
            &json!({}),
            Some(&a),
        )
        .await?
        .json()
        .await?;
    app.post(
        "/api/v1/sandbox/bank/pay",
        &json!({"account_no": fee["account_no"], "amount": "300.00"}),
        None,
    )
    .await?;

    app.clock.advance(TimeDelta::days(3));
    let owner = app.sign_in("owner@cx.test", PASSWORD).await?;
    let res = app
        .post(
            &format!("/api/v1/tenders/{id}/cancel"),
            &json!({"reason": "项目取消"}),
            Some(&owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    drain(&app).await?;

    let refunds = list_refunds(app.state.db(), Some(&TenderId::parse(&id)?), None).await?;
    let mut amounts: Vec<(i64, i64, String)> = refunds
        .iter()
        .map(|r| (r.principal_fen, r.interest_fen, r.status.clone()))
        .collect();
    amounts.sort();
    // The fee (no interest), the partial deposit and the full one, each with three days' interest;
    // nothing for the bidder who paid nothing.
    assert_eq!(
        amounts,
        vec![
            (30_000, 0, "confirmed".to_owned()),
            (80_000, 2, "confirmed".to_owned()),
            (200_000, 6, "confirmed".to_owned()),
        ]
    );
    assert!(refunds.iter().all(|r| r.reason == "cancelled"));
    // How many were refunded would tell supervisors how many paid before the deadline (电子招标投标办法
    // Art 21): the open chain says the tender was cancelled, the sealed one holds the count.
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let open = app
        .get(&format!("/api/v1/tenders/{id}/audit"), Some(&supervisor))
        .await?
        .text()
        .await?;
    assert!(
        open.contains("tender.cancel") && !open.contains("refunds"),
        "{open}"
    );
    let sealed = app
        .get(
            &format!("/api/v1/tenders/{id}/audit?chain=sealed"),
            Some(&supervisor),
        )
        .await?
        .text()
        .await?;
    assert!(!sealed.contains("tender.cancel_refunds"), "{sealed}");
    app.clock.advance(TimeDelta::days(21));
    let supervisor = app.sign_in("supervisor@jianguan.test", PASSWORD).await?;
    let sealed = app
        .get(
            &format!("/api/v1/tenders/{id}/audit?chain=sealed"),
            Some(&supervisor),
        )
        .await?
        .text()
        .await?;
    assert!(
        sealed.contains("tender.cancel_refunds") && sealed.contains("\"refunds\":3"),
        "{sealed}"
    );
    let report = check_ledger(app.state.db()).await?;
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(report.balances.get("bank"), Some(&0));
    Ok(())
}

#[tokio::test]
async fn a_refund_the_bank_refuses_is_retried_and_shown_to_operators() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@fail.test", "tenderer").await?;
    // A bidder organization registered without a basic account: the bank cannot pay it back.
    let mut body = crate::helpers::registration("nobasic@fail.test", "bidder");
    body["organization"]
        .as_object_mut()
        .map(|o| o.remove("basic_account"));
    let res = app.post("/api/v1/accounts", &body, None).await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let bidder = app.sign_in("nobasic@fail.test", PASSWORD).await?;
    let id = app.published_goods_tender(&owner, "退款失败", 21).await?;
    let (reg, _) = register_and_pay(&app, &bidder, &id, "2000.00").await?;
    app.delete(
        &format!("/api/v1/tenders/{id}/lots/1/registrations/{reg}"),
        Some(&bidder),
    )
    .await?;
    let runner = Runner::new(worker_context(&app.state)?);
    while runner.run_one().await? {}

    let operator = app.operator().await?;
    let failed: Value = app
        .get("/api/v1/bank/refunds?status=failed", Some(&operator))
        .await?
        .json()
        .await?;
    assert_eq!(failed["items"].as_array().map(Vec::len), Some(1));
    assert!(text(&failed["items"][0]["last_error"]).contains("payee"));
    // Operators get no more than supervisors (docs/spec/visibility.md, 电子招标投标办法 Art 21): before the bid
    // deadline the refund shows what the transfer needs, never the tender, the payer or the reason,
    // and the tender's own list is refused whatever it holds.
    let item = &failed["items"][0];
    assert!(item["account_no"].is_string() && item["principal"]["amount"] == "2000.00");
    for hidden in ["tender_id", "organization_id", "reason", "due_by"] {
        assert!(
            item[hidden].is_null(),
            "{hidden} shown before the deadline: {item}"
        );
    }
    assert!(!failed.to_string().contains(&id));
    assert_problem(
        app.get(
            &format!("/api/v1/bank/refunds?tender_id={id}"),
            Some(&operator),
        )
        .await?,
        StatusCode::CONFLICT,
        "deadline_not_passed",
    )
    .await?;
    // The job waits to try again: it is not forgotten.
    let jobs = tenderhall_domain::jobs::service::list(app.state.db(), None, 100).await?;
    let refund_job = jobs
        .iter()
        .find(|j| j.kind == "deposit.refund")
        .ok_or_else(|| anyhow::anyhow!("no refund job"))?;
    assert_eq!(refund_job.status.as_str(), "pending");
    assert!(refund_job.attempts >= 1);
    assert!(refund_job.last_error.is_some());
    // Bidders do not see the operators' list.
    assert_problem(
        app.get("/api/v1/bank/refunds", Some(&bidder)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    app.assert_ledger_sound().await?;
    Ok(())
}

#[tokio::test]
async fn a_bank_confirmation_settles_a_refund_once_and_must_be_signed() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@conf.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@conf.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "退款确认", 21).await?;
    let (reg, _) = register_and_pay(&app, &bidder, &id, "2000.00").await?;
    let res: Value = app
        .delete(
            &format!("/api/v1/tenders/{id}/lots/1/registrations/{reg}"),
            Some(&bidder),
        )
        .await?
        .json()
        .await?;
    let refund_id = text(&res["refund_id"]);
    drain(&app).await?;
    let before = check_ledger(app.state.db()).await?;

    // The bank confirms again (its retry): nothing moves twice.
    let body =
        json!({"refund_id": refund_id, "status": "paid", "detail": "BANK-REF-1"}).to_string();
    let ts = app.state.now().timestamp();
    let send = |signature: String| {
        app.request(
            reqwest::Method::POST,
            "/api/v1/bank/refund-confirmations",
            None,
        )
        .header("content-type", "application/json")
        .header("x-bank-timestamp", ts.to_string())
        .header("x-bank-signature", signature)
        .body(body.clone())
        .send()
    };
    let again: Value = send(sign_notification(
        b"sandbox-bank-secret",
        ts,
        body.as_bytes(),
    ))
    .await?
    .json()
    .await?;
    assert_eq!(again["status"], "duplicate");
    assert_problem(
        send(sign_notification(b"not-the-secret", ts, body.as_bytes())).await?,
        StatusCode::UNAUTHORIZED,
        "bad_signature",
    )
    .await?;
    let after = check_ledger(app.state.db()).await?;
    assert_eq!(before.balances, after.balances);
    assert!(after.is_sound());
    Ok(())
}

#[tokio::test]
async fn order_87_art_38_losers_within_5_working_days_of_the_award_winner_after_the_contract_and_a_refusal_forfeits()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@award.test", "tenderer").await?;
    let (w, _) = app.member("winner@award.test", "bidder").await?;
    let (l, _) = app.member("loser@award.test", "bidder").await?;
    let (r, _) = app.member("refuser@award.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "中标退款", 21).await?;
    let (winner, _) = register_and_pay(&app, &w, &id, "2000.00").await?;
    register_and_pay(&app, &l, &id, "2000.00").await?;
    let (refuser, _) = register_and_pay(&app, &r, &id, "2000.00").await?;
    app.clock.advance(TimeDelta::days(22));
    let db = app.state.db();
    let rate = Decimal::new(35, 4);
    let (tender, lot) = (TenderId::parse(&id)?, LotId::parse("1")?);
    let winner = RegistrationId::parse(&winner)?;

    // The refuser's deposit is kept (实施条例 Art 74) before the others are settled.
    assert_eq!(
        forfeit_registration(
            db,
            &RegistrationId::parse(&refuser)?,
            "winner refused to sign",
            app.state.now()
        )
        .await?,
        200_000
    );
    // Award notice on Saturday 2026-12-19 (China time): the losers' refunds are due five working
    // days later, Friday 2026-12-25.
    let award_at: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-12-19T10:00:00+08:00")?.into();
    app.clock.set(award_at);
    let losers = refund_losers_after_award(db, &tender, &lot, &winner, rate, award_at).await?;
    assert_eq!(losers.len(), 1);
    // The worker takes the refund job as soon as it is due.
    drain(&app).await?;
    let signed_at = award_at + TimeDelta::days(10);
    app.clock.set(signed_at);
    let winners = refund_after_contract(db, &tender, &lot, &winner, true, rate, signed_at).await?;
    assert_eq!(winners.len(), 1);
    drain(&app).await?;

    let refunds = list_refunds(db, Some(&TenderId::parse(&id)?), None).await?;
    let lost = refunds
        .iter()
        .find(|r| r.reason == "lost")
        .ok_or_else(|| anyhow::anyhow!("no loser refund"))?;
    let due: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-12-25T10:00:00+08:00")?.into();
    assert_eq!(lost.due_by, due);
    assert!(lost.instructed_at.is_some_and(|t| t <= lost.due_by));
    let won = refunds
        .iter()
        .find(|r| r.reason == "won")
        .ok_or_else(|| anyhow::anyhow!("no winner refund"))?;
    assert!(won.due_by > signed_at && won.instructed_at.is_some_and(|t| t <= won.due_by));
    assert!(
        won.interest_fen > lost.interest_fen,
        "held longer, more interest"
    );
    assert!(refunds.iter().all(|r| r.status == "confirmed"));
    let report = check_ledger(db).await?;
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(
        report.balances.get(&format!("forfeited:{id}")),
        Some(&-200_000)
    );
    // The kept deposit stays in the collecting account for the tenderer.
    assert_eq!(report.balances.get("bank"), Some(&200_000));
    Ok(())
}

#[tokio::test]
async fn an_overpayment_is_recorded_and_the_excess_refunded_within_5_days() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@over.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@over.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "多缴退款", 21).await?;
    let (reg, account) = register_and_pay(&app, &bidder, &id, "1500.00").await?;
    // 1,500 then 1,000 on 2,000 due: 500 too much.
    app.post(
        "/api/v1/sandbox/bank/pay",
        &json!({"account_no": account, "amount": "1000.00"}),
        None,
    )
    .await?;
    let paid_at = app.state.now();
    drain(&app).await?;
    let refunds = list_refunds(app.state.db(), Some(&TenderId::parse(&id)?), None).await?;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].reason, "overpaid");
    assert_eq!(refunds[0].principal_fen, 50_000);
    assert_eq!(refunds[0].interest_fen, 0);
    assert_eq!(refunds[0].status, "confirmed");
    assert_eq!(refunds[0].due_by, paid_at + TimeDelta::days(5));
    // The deposit itself stays paid and held.
    assert_eq!(
        tenderhall_domain::deposit::service::deposit_status(
            app.state.db(),
            &RegistrationId::parse(&reg)?
        )
        .await?
        .as_str(),
        "paid"
    );
    let report = check_ledger(app.state.db()).await?;
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(
        report.balances.get(&format!("deposit:{account}")),
        Some(&-200_000)
    );
    Ok(())
}

#[tokio::test]
async fn a_bank_statement_is_reconciled_against_notifications_and_refunds() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@recon.test", "tenderer").await?;
    let (a, _) = app.member("a@recon.test", "bidder").await?;
    let (b, _) = app.member("b@recon.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "对账", 21).await?;
    let (reg_a, acct_a) = register_and_pay(&app, &a, &id, "2000.00").await?;
    let (_, acct_b) = register_and_pay(&app, &b, &id, "1000.00").await?;
    app.delete(
        &format!("/api/v1/tenders/{id}/lots/1/registrations/{reg_a}"),
        Some(&a),
    )
    .await?;
    drain(&app).await?;
    let db = app.state.db();
    let refund = list_refunds(db, Some(&TenderId::parse(&id)?), None)
        .await?
        .remove(0);
    let notes = {
        use sea_orm::EntityTrait;
        tenderhall_domain::deposit::store::bank_notifications::Entity::find()
            .all(db)
            .await?
    };
    let txn = |acct: &str| {
        notes
            .iter()
            .find(|n| n.account_no == acct)
            .map(|n| n.bank_txn_id.clone())
            .unwrap_or_default()
    };
    let day = app.state.now().to_rfc3339();
    // a's payment and refund match; b's payment is booked at another amount; a payment the
    // platform never heard of; and nothing else.
    let csv = format!(
        "bank_txn_id,direction,account_no,amount,currency,booked_at,reference\n\
         {},in,{acct_a},2000.00,CNY,{day},\n\
         {},in,{acct_b},1200.00,CNY,{day},\n\
         LOST-1,in,955880123456789012,50.00,CNY,{day},\n\
         OUT-1,out,{},2000.00,CNY,{day},{}\n",
        txn(&acct_a),
        txn(&acct_b),
        refund.account_no,
        refund.id,
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("statement.csv");
    std::fs::write(&path, csv)?;
    let lines = tenderhall_api::cli::read_statement(&path)?;
    let report = tenderhall_domain::deposit::service::reconcile(db, &lines).await?;
    assert_eq!(report.matched, 2, "{report:?}");
    assert_eq!(report.bank_only.len(), 1);
    assert!(report.bank_only[0].contains("LOST-1"));
    assert_eq!(report.differing.len(), 1);
    assert!(report.differing[0].contains("120000"));
    assert!(report.platform_only.is_empty(), "{report:?}");
    assert!(!report.is_clean());

    // The reverse: the platform credited b's payment, the statement does not have it.
    let without_b: Vec<_> = lines
        .iter()
        .filter(|l| l.account_no != acct_b && l.bank_txn_id != "LOST-1")
        .cloned()
        .collect();
    let report = tenderhall_domain::deposit::service::reconcile(db, &without_b).await?;
    assert_eq!(report.platform_only.len(), 1, "{report:?}");
    assert!(report.platform_only[0].contains(&acct_b));
    assert!(report.bank_only.is_empty() && report.differing.is_empty());

    // A malformed statement names its line.
    std::fs::write(
        &path,
        "bank_txn_id,direction,account_no,amount,currency,booked_at,reference\nX,sideways,1,1.00,CNY,2026-11-28T00:00:00Z,\n",
    )?;
    let err = tenderhall_api::cli::read_statement(&path)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("line 2"), "{err}");
    Ok(())
}

#[tokio::test]
async fn refund_deadlines_are_met_in_an_accelerated_tender() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@fast.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@fast.test", "bidder").await?;
    // 20 days ÷ 86,400: the bid deadline is 20 seconds away, 5 days are 5 seconds.
    let body = json!({
        "title": "加速退款", "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
        "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
        "bid_deadline": (app.state.now() + TimeDelta::seconds(20)).to_rfc3339(),
        "accelerator": 86400,
    });
    let id = app.publish_tender(&owner, &body).await?;
    let (reg, _) = register_and_pay(&app, &bidder, &id, "2000.00").await?;
    app.clock.advance(TimeDelta::seconds(3));
    app.delete(
        &format!("/api/v1/tenders/{id}/lots/1/registrations/{reg}"),
        Some(&bidder),
    )
    .await?;
    let withdrawn_at = app.state.now();
    drain(&app).await?;
    let refund = list_refunds(app.state.db(), Some(&TenderId::parse(&id)?), None)
        .await?
        .remove(0);
    assert_eq!(refund.due_by, withdrawn_at + TimeDelta::seconds(5));
    assert!(refund.instructed_at.is_some_and(|t| t <= refund.due_by));
    assert_eq!(refund.status, "confirmed");
    app.assert_ledger_sound().await?;
    Ok(())
}
