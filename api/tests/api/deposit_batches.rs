//! The group commit of bank notifications (docs/spec/rules.md "Money"; 实施条例 Art 40): a batch written in one
//! transaction answers each notification as if they had come one by one, and batches written side
//! by side, each in its own transaction as two writers or two servers write them, each decide on
//! what the others committed: a fee is earned once, exactly what was paid beyond a deposit is
//! refunded, and two bidders paid from one account are flagged, however the payments race.

use std::sync::Arc;

use serde_json::json;
use tenderhall_domain::deposit::NotificationBody;
use tenderhall_domain::deposit::service::{
    Notification, Receipt, check_ledger, flags_of, list_refunds, receive_all,
};
use tenderhall_domain::id::TenderId;
use tokio::sync::Barrier;

use crate::deposits::{BASIC, count, payment, registered};
use crate::helpers::{TestApp, TestResult, text};

fn note(txn: &str, account: &str, amount: &str, payer: &str) -> anyhow::Result<Notification> {
    let body = payment(txn, account, amount, payer);
    let parsed: NotificationBody = serde_json::from_str(&body)?;
    Ok(Notification {
        payment: parsed
            .validate(tenderhall_domain::deposit::DepositSettings::DEFAULT_MAX_NOTIFICATION_FEN)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        body_sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, body.as_bytes())),
    })
}

/// Records each notification as a batch of its own, all started at once; every one credited.
async fn race(app: &TestApp, notes: Vec<Notification>) -> anyhow::Result<()> {
    let start = Arc::new(Barrier::new(notes.len()));
    let mut tasks = Vec::new();
    for n in notes {
        let (db, now, start) = (app.state.db().clone(), app.state.now(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            receive_all(&db, std::slice::from_ref(&n), now).await
        }));
    }
    for task in tasks {
        let answers = task.await?;
        assert!(
            matches!(answers[..], [Ok(Receipt::Credited)]),
            "{answers:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_payments_into_one_deposit_refund_exactly_what_was_paid_beyond_it() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@race.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@race.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "并发入账", 21).await?;
    let (_, reg) = registered(&app, &bidder, &id).await?;
    let account = text(&reg["deposit_account"]["account_no"]);
    // Six payments of 500 on 2,000 due: 1,000 too much, however they interleave.
    for round in 0..3 {
        let notes = (0..6)
            .map(|i| note(&format!("RACE-{round}-{i}"), &account, "500.00", BASIC))
            .collect::<anyhow::Result<Vec<_>>>()?;
        race(&app, notes).await?;
        let refunded: i64 = list_refunds(app.state.db(), Some(&TenderId::parse(&id)?), None)
            .await?
            .iter()
            .filter(|r| r.reason == "overpaid")
            .map(|r| r.principal_fen)
            .sum();
        // Round 1 overpays by 1,000; each later round's 3,000 is all beyond the amount due.
        assert_eq!(refunded, 100_000 + round * 300_000, "round {round}");
        app.assert_ledger_sound().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_payments_of_a_document_fee_earn_it_once() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@racefee.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@racefee.test", "bidder").await?;
    let body = json!({
        "title": "并发文件费", "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
        "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
        "document_fee": "200",
        "bid_deadline": (app.state.now() + chrono::TimeDelta::days(21)).to_rfc3339(),
    });
    let id = app.publish_tender(&owner, &body).await?;
    let fee: serde_json::Value = app
        .post(
            &format!("/api/v1/tenders/{id}/document-fee"),
            &json!({}),
            Some(&bidder),
        )
        .await?
        .json()
        .await?;
    let account = text(&fee["account_no"]);
    // Four payments of 100 on a fee of 200: earned once, 200 refunded.
    let notes = (0..4)
        .map(|i| note(&format!("FEE-{i}"), &account, "100.00", BASIC))
        .collect::<anyhow::Result<Vec<_>>>()?;
    race(&app, notes).await?;
    let report = check_ledger(app.state.db()).await?;
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(
        report.balances.get(&format!("fee_income:{id}")),
        Some(&-20_000)
    );
    let refunded: i64 = list_refunds(app.state.db(), Some(&TenderId::parse(&id)?), None)
        .await?
        .iter()
        .map(|r| r.principal_fen)
        .sum();
    assert_eq!(refunded, 20_000);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn art_40_bidders_paid_at_once_from_one_account_are_both_flagged() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@raceflag.test", "tenderer").await?;
    let id = app
        .published_goods_tender(&owner, "并发串标预警", 21)
        .await?;
    let shared = "6228 4800 0000 0003";
    let mut notes = Vec::new();
    let mut orgs = Vec::new();
    for i in 0..4 {
        let (bidder, org) = app
            .member(&format!("bidder{i}@raceflag.test"), "bidder")
            .await?;
        let (_, reg) = registered(&app, &bidder, &id).await?;
        let account = text(&reg["deposit_account"]["account_no"]);
        notes.push(note(&format!("FLAG-{i}"), &account, "2000.00", shared)?);
        orgs.push(org);
    }
    race(&app, notes).await?;
    let flags = flags_of(app.state.db(), &TenderId::parse(&id)?).await?;
    for org in &orgs {
        assert_eq!(
            flags
                .iter()
                .filter(|f| f.kind == "shared_payer" && &f.organization_id == org)
                .count(),
            1,
            "shared_payer for {org}: {flags:?}"
        );
    }
    app.assert_ledger_sound().await?;
    Ok(())
}

/// Group commit: a batch of notifications written in one transaction answers each exactly as if
/// they had come one by one: duplicates and conflicts inside the batch, suspense, an overpayment
/// spread over two payments, and one payer paying two bidders (实施条例 Art 40).
#[tokio::test]
async fn a_batch_of_notifications_is_recorded_as_if_they_came_one_by_one() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@batch.test", "tenderer").await?;
    let (first, first_org) = app.member("first@batch.test", "bidder").await?;
    let (second, second_org) = app.member("second@batch.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "批量入账", 21).await?;
    let (_, a) = registered(&app, &first, &id).await?;
    let (_, b) = registered(&app, &second, &id).await?;
    let (acct_a, acct_b) = (
        text(&a["deposit_account"]["account_no"]),
        text(&b["deposit_account"]["account_no"]),
    );
    let shared = "6228 4800 0000 0002";
    let batch = vec![
        note("BATCH-1", &acct_a, "1500.00", shared)?,
        note("BATCH-2", &acct_b, "2000.00", shared)?,
        note("BATCH-3", &acct_a, "1000.00", shared)?,
        note("BATCH-1", &acct_a, "1500.00", shared)?,
        note("BATCH-2", &acct_b, "2000.01", shared)?,
        note("BATCH-4", "955880000000000000", "10.00", shared)?,
    ];
    let answers = receive_all(app.state.db(), &batch, app.state.now()).await;
    let outcome: Vec<String> = answers
        .iter()
        .map(|a| match a {
            Ok(receipt) => receipt.as_str().to_owned(),
            Err(tenderhall_domain::DomainError::Refused { code, .. }) => code.as_str().to_owned(),
            Err(e) => format!("{e}"),
        })
        .collect();
    assert_eq!(
        outcome,
        [
            "credited",
            "credited",
            "credited",
            "duplicate",
            "txn_conflict",
            "suspense"
        ]
    );
    // The same batch again changes nothing.
    let again = receive_all(app.state.db(), &batch[..1], app.state.now()).await;
    assert!(matches!(again[..], [Ok(Receipt::Duplicate)]));
    assert_eq!(count(&app, "bank_notifications").await?, 4);

    // 1,500 + 1,000 on 2,000 due: one refund of the 500 beyond it (docs/spec/rules.md "Money").
    let refunds = list_refunds(app.state.db(), Some(&TenderId::parse(&id)?), None).await?;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0].reason, "overpaid");
    assert_eq!(refunds[0].principal_fen, 50_000);

    // Both bidders flagged for the shared payer, each once, and for paying from another account.
    let flags = flags_of(app.state.db(), &TenderId::parse(&id)?).await?;
    for org in [&first_org, &second_org] {
        for kind in ["shared_payer", "payer_mismatch"] {
            assert_eq!(
                flags
                    .iter()
                    .filter(|f| f.kind == kind && &f.organization_id == org)
                    .count(),
                1,
                "{kind} for {org}: {flags:?}"
            );
        }
    }
    app.assert_ledger_sound().await?;
    Ok(())
}
