//! What bids do to deposits: a withdrawal refunds, a revocation forfeits (实施条例 Art 35).

use super::*;
use tenderhall_domain::deposit::service::{check_ledger, list_refunds};
use tenderhall_domain::id::TenderId;

/// docs/spec/api-contract.md `bid/revoke`, 实施条例 Art 35: before the deadline a bid is withdrawn, not revoked; after
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
    let report = check_ledger(app.state.db()).await?;
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
    let record: Value = opening_record(&app, &id).await?;
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

/// 实施条例 Art 35 (docs/spec/rules.md "Money"): a bid withdrawn before the deadline has its deposit back
/// within 5 days of the withdrawal, with interest to the day, and supervisors learn of it only at
/// the deadline (电子招标投标办法 Art 21). The registration stays: a new bid reopens the deposit
/// account, what was refunded no longer counts, and what is paid again secures the new bid at the
/// opening. The registration itself cannot be withdrawn under a current bid.
#[tokio::test]
async fn art_35_a_withdrawn_bids_deposit_comes_back_within_5_days_and_a_new_bid_is_secured_afresh()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    app.supervisor(&operator).await?;
    let (owner, _) = app.member("owner@rebid.test", "tenderer").await?;
    let id = app
        .published_goods_tender(&owner, "撤回投标退保证金", 21)
        .await?;
    let key = opening_key(&app, &id).await?;
    let mut w = bidder(&app, "w@rebid.test", &id).await?;
    for email in ["x@rebid.test", "y@rebid.test"] {
        let b = bidder(&app, email, &id).await?;
        let res = put_bid(&app, &b, &id, sealed_bid(&b, &id, &key, "5000.00")?).await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    }
    let registration: Value = app
        .post(
            &format!("/api/v1/tenders/{id}/lots/1/registrations"),
            &serde_json::json!({}),
            Some(&w.token),
        )
        .await?
        .json()
        .await?;
    let registration_id = text(&registration["registration_id"]);
    let account = text(&registration["deposit_account"]["account_no"]);
    let pay = |amount: &'static str| {
        let account = account.clone();
        let app = &app;
        async move {
            let paid: Value = app
                .post(
                    "/api/v1/sandbox/bank/pay",
                    &serde_json::json!({"account_no": account, "amount": amount}),
                    None,
                )
                .await?
                .json()
                .await?;
            anyhow::Ok(text(&paid["status"]))
        }
    };
    assert_eq!(pay("2000.00").await?, "credited");
    let res = put_bid(&app, &w, &id, sealed_bid(&w, &id, &key, "4800.00")?).await?;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    drain(&app).await?;

    // Ten days and a few hours later: 200,000 fen × 0.0035 × 10 / 360 = 19.44 → 19 fen interest.
    app.clock.advance(TimeDelta::days(10) + TimeDelta::hours(5));
    w.token = app
        .sign_in("w@rebid.test", crate::helpers::PASSWORD)
        .await?;
    let registration_path = format!("/api/v1/tenders/{id}/lots/1/registrations/{registration_id}");
    crate::helpers::assert_problem(
        app.delete(&registration_path, Some(&w.token)).await?,
        reqwest::StatusCode::CONFLICT,
        "bid_current",
    )
    .await?;
    let res = app
        .delete(&format!("/api/v1/tenders/{id}/lots/1/bid"), Some(&w.token))
        .await?;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let withdrawn_at = app.state.now();
    drain(&app).await?;
    let refunds = list_refunds(app.state.db(), Some(&TenderId::parse(&id)?), None).await?;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    let refund = &refunds[0];
    assert_eq!(refund.reason, "withdrawn");
    assert_eq!(refund.organization_id, w.org);
    assert_eq!((refund.principal_fen, refund.interest_fen), (200_000, 19));
    assert_eq!(refund.due_by, withdrawn_at + TimeDelta::days(5));
    assert!(refund.instructed_at.is_some_and(|t| t <= refund.due_by));
    assert_eq!(refund.status, "confirmed");
    let supervisor = app
        .sign_in("supervisor@jianguan.test", crate::helpers::PASSWORD)
        .await?;
    let before = chain_actions(&app, &supervisor, &id, "tender").await?;
    assert!(
        !before.iter().any(|a| a.starts_with("deposit.")),
        "a refund before the deadline would tell supervisors someone registered: {before:?}"
    );

    // A new bid: the refunded 2,000.00 no longer secures it; paying again does.
    let res = put_bid(&app, &w, &id, sealed_bid(&w, &id, &key, "4700.00")?).await?;
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let mine: Value = app
        .get(&format!("/api/v1/tenders/{id}/lots/1/bid"), Some(&w.token))
        .await?
        .json()
        .await?;
    assert_eq!(mine["deposit_status"], "unpaid");
    assert_eq!(
        pay("2000.00").await?,
        "credited",
        "the account is open again"
    );

    app.clock.advance(TimeDelta::days(11));
    drain(&app).await?;
    let record: Value = opening_record(&app, &id).await?;
    let line = record["bids"]
        .as_array()
        .and_then(|bids| {
            bids.iter()
                .find(|b| b["bidder_id"] == w.org.as_str())
                .cloned()
        })
        .unwrap_or_default();
    assert_eq!(line["status"], "opened", "{record}");
    assert_eq!(line["deposit_status"], "paid", "{record}");
    let supervisor = app
        .sign_in("supervisor@jianguan.test", crate::helpers::PASSWORD)
        .await?;
    let sealed = chain_actions(&app, &supervisor, &id, "sealed").await?;
    for action in ["bid.withdraw", "deposit.refund", "deposit.refund_confirmed"] {
        assert!(sealed.iter().any(|a| a == action), "{action}: {sealed:?}");
    }
    let report = check_ledger(app.state.db()).await?;
    assert!(report.is_sound(), "{report:?}");
    assert_eq!(
        report.balances.get(&format!("deposit:{account}")),
        Some(&-200_000),
        "the second payment is held for the new bid"
    );
    Ok(())
}
