//! The audit log: every change recorded with actor and IP (电子招标投标办法 Art 49), chains that
//! `tenderhall audit verify` recomputes, signed heads, and supervisors' view (docs/spec/visibility.md).

use chrono::TimeDelta;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};
use tenderhall_domain::audit::service::{
    head_record_name, publish_heads, sign_and_publish_head, sign_head,
};
use tenderhall_domain::audit::{Actor, Chain, NewEntry, store};
use tenderhall_domain::keys::verify_ed25519;

use crate::helpers::{TestApp, TestResult, assert_problem};

async fn platform_log(app: &TestApp, token: &str) -> anyhow::Result<Vec<Value>> {
    let page: Value = app
        .get("/api/v1/audit/platform?limit=200", Some(token))
        .await?
        .json()
        .await?;
    Ok(page["items"].as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn art_49_a_registration_is_logged_with_time_actor_and_ip() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let (account_id, org_id) = app.register("ma@bidder.test", "bidder").await?;
    let entries = platform_log(&app, &operator).await?;
    let entry = entries
        .iter()
        .find(|e| e["action"] == "account.register")
        .ok_or_else(|| anyhow::anyhow!("no registration entry in {entries:?}"))?;
    assert_eq!(entry["actor"], account_id.as_str());
    assert_eq!(entry["ip"], "127.0.0.1");
    assert_eq!(entry["details"]["organization_id"], org_id.as_str());
    assert!(entry["at"].is_string());
    // Each entry links to the one before it.
    for pair in entries.windows(2) {
        assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
    }
    Ok(())
}

#[tokio::test]
async fn the_platform_log_is_for_operators_and_supervisors_only() -> TestResult {
    let app = TestApp::spawn().await?;
    let (bidder, _) = app.member("niu@bidder.test", "bidder").await?;
    assert_problem(
        app.get("/api/v1/audit/platform", Some(&bidder)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn audit_verify_passes_on_an_untouched_log() -> TestResult {
    let app = TestApp::spawn().await?;
    app.register("a1@bidder.test", "bidder").await?;
    sign_head(app.state.db(), app.state.signer(), app.state.now()).await?;
    app.register("a2@bidder.test", "bidder").await?;
    let report = tenderhall_api::cli::audit_verify(&app.settings, None).await?;
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
    assert!(report.entries >= 3 && report.heads == 1);
    Ok(())
}

#[tokio::test]
async fn art_49_editing_one_entry_makes_audit_verify_fail_and_name_it() -> TestResult {
    let app = TestApp::spawn().await?;
    for i in 0..3 {
        app.register(&format!("edit{i}@bidder.test"), "bidder")
            .await?;
    }
    app.state
        .db()
        .execute_unprepared(
            "UPDATE audit_entries SET ip = '10.66.66.66' WHERE chain = 'platform' AND seq = 3",
        )
        .await?;
    let report = tenderhall_api::cli::audit_verify(&app.settings, None).await?;
    assert!(tenderhall_api::cli::print_report(&report).is_err());
    assert_eq!(report.breaks.len(), 1, "{:?}", report.breaks);
    assert!(
        report.breaks[0].contains("chain `platform`, entry 3"),
        "{:?}",
        report.breaks
    );
    Ok(())
}

#[tokio::test]
async fn art_49_deleting_one_entry_makes_audit_verify_fail_and_name_it() -> TestResult {
    let app = TestApp::spawn().await?;
    for i in 0..3 {
        app.register(&format!("del{i}@bidder.test"), "bidder")
            .await?;
    }
    app.state
        .db()
        .execute_unprepared("DELETE FROM audit_entries WHERE chain = 'platform' AND seq = 2")
        .await?;
    let report = tenderhall_api::cli::audit_verify(&app.settings, None).await?;
    assert!(
        report
            .breaks
            .iter()
            .any(|b| b.contains("chain `platform`, entry 2")),
        "{:?}",
        report.breaks
    );
    Ok(())
}

#[tokio::test]
async fn a_signed_head_catches_a_truncated_chain_whose_tip_was_forged() -> TestResult {
    let app = TestApp::spawn().await?;
    app.register("t1@bidder.test", "bidder").await?;
    app.register("t2@bidder.test", "bidder").await?;
    let head = sign_head(app.state.db(), app.state.signer(), app.state.now())
        .await?
        .ok_or_else(|| anyhow::anyhow!("nothing signed"))?;
    let tip = store::tip(app.state.db(), "platform")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tip"))?;
    // A careful forger drops the last entry and rewinds the tip to the entry before it.
    let previous = store::entry_at(app.state.db(), "platform", tip.last_seq - 1)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no entry"))?;
    let db = app.state.db();
    db.execute_unprepared(&format!(
        "DELETE FROM audit_entries WHERE chain = 'platform' AND seq = {}",
        tip.last_seq
    ))
    .await?;
    db.execute_unprepared(&format!(
        "UPDATE audit_chains SET last_seq = {}, last_hash = '{}' WHERE chain = 'platform'",
        previous.seq, previous.hash
    ))
    .await?;
    let report = tenderhall_api::cli::audit_verify(&app.settings, None).await?;
    let expected = format!(
        "chain `platform`, entry {}: recorded by signed head {}",
        tip.last_seq, head.seq
    );
    assert!(
        report.breaks.iter().any(|b| b.contains(&expected)),
        "{:?}",
        report.breaks
    );
    Ok(())
}

/// Signs a head and keeps its copy in the document store, as the head job does.
async fn signed(app: &TestApp) -> anyhow::Result<i64> {
    let head = sign_and_publish_head(
        app.state.db(),
        app.state.signer(),
        app.state.store().as_ref(),
        app.state.now(),
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("nothing signed"))?;
    Ok(head.seq)
}

/// Cuts the platform chain back to entry `keep` (its tip rewound to match), deletes the signed
/// heads from `from_head` on, and sets the chain's signed mark as the forger chooses.
async fn cut(app: &TestApp, keep: i64, from_head: i64, signed_seq: i64) -> anyhow::Result<()> {
    let kept = store::entry_at(app.state.db(), "platform", keep)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no entry {keep}"))?;
    let db = app.state.db();
    db.execute_unprepared(&format!(
        "DELETE FROM audit_entries WHERE chain = 'platform' AND seq > {keep}"
    ))
    .await?;
    db.execute_unprepared(&format!(
        "UPDATE audit_chains SET last_seq = {keep}, last_hash = '{}', signed_seq = {signed_seq} \
         WHERE chain = 'platform'",
        kept.hash
    ))
    .await?;
    db.execute_unprepared(&format!("DELETE FROM audit_heads WHERE seq >= {from_head}"))
        .await?;
    Ok(())
}

/// 电子招标投标办法 Art 49: a forger who cuts the end of a chain together with the heads that
/// signed it, leaving the heads before them consecutive, is caught by the chain's own signed mark.
#[tokio::test]
async fn art_49_cutting_a_chain_with_the_heads_that_signed_it_is_caught() -> TestResult {
    let app = TestApp::spawn().await?;
    app.register("c1@bidder.test", "bidder").await?;
    signed(&app).await?;
    let tip = store::tip(app.state.db(), "platform")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tip"))?;
    app.register("c2@bidder.test", "bidder").await?;
    let second = signed(&app).await?;
    // The signed mark left as it was: it points past the new end.
    cut(&app, tip.last_seq, second, tip.last_seq + 2).await?;
    let report = tenderhall_api::cli::audit_verify(&app.settings, None).await?;
    assert!(
        report
            .breaks
            .iter()
            .any(|b| b.contains("chain `platform`") && b.contains("was signed")),
        "{:?}",
        report.breaks
    );
    Ok(())
}

/// The heads are kept a second time in the document store: deleting every head from the database
/// (and resetting the chains' signed marks) no longer leaves a log that verifies.
#[tokio::test]
async fn art_49_deleting_every_signed_head_is_caught_by_the_copies_in_the_document_store()
-> TestResult {
    let app = TestApp::spawn().await?;
    app.register("d1@bidder.test", "bidder").await?;
    signed(&app).await?;
    app.register("d2@bidder.test", "bidder").await?;
    signed(&app).await?;
    let untouched = tenderhall_api::cli::audit_verify(&app.settings, None).await?;
    assert!(untouched.breaks.is_empty(), "{:?}", untouched.breaks);
    assert_eq!(untouched.heads, 2);

    let tip = store::tip(app.state.db(), "platform")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tip"))?;
    cut(&app, tip.last_seq - 1, 1, 0).await?;
    app.state
        .db()
        .execute_unprepared("UPDATE audit_chains SET signed_seq = 0")
        .await?;
    let report = tenderhall_api::cli::audit_verify(&app.settings, None).await?;
    assert!(
        report
            .breaks
            .iter()
            .any(|b| b.contains("signed head 1: kept in the document store but deleted")),
        "{:?}",
        report.breaks
    );
    Ok(())
}

/// Heads signed while the document store was away are kept once it answers, oldest first, so the
/// store always holds heads 1 to n without a gap.
#[tokio::test]
async fn heads_signed_while_the_store_was_away_are_kept_later_without_a_gap() -> TestResult {
    let app = TestApp::spawn().await?;
    for i in 0..3 {
        app.register(&format!("k{i}@bidder.test"), "bidder").await?;
        sign_head(app.state.db(), app.state.signer(), app.state.now()).await?;
    }
    let store = app.state.store();
    assert!(store.get_record(&head_record_name(1)).await?.is_none());
    assert_eq!(publish_heads(app.state.db(), store.as_ref()).await?, 3);
    for seq in 1..=3 {
        assert!(
            store.get_record(&head_record_name(seq)).await?.is_some(),
            "head {seq}"
        );
    }
    assert_eq!(publish_heads(app.state.db(), store.as_ref()).await?, 0);
    let report = tenderhall_api::cli::audit_verify(&app.settings, None).await?;
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
    Ok(())
}

/// An outsider who kept the published head checks the platform against it: `tenderhall audit
/// verify --head FILE` fails when that head is no longer in the log.
#[tokio::test]
async fn a_head_an_outsider_kept_shows_that_the_log_was_rewritten() -> TestResult {
    let app = TestApp::spawn().await?;
    app.register("o1@bidder.test", "bidder").await?;
    signed(&app).await?;
    let kept = app
        .get("/api/v1/audit/heads/latest", None)
        .await?
        .text()
        .await?;
    let file = app.settings.data_dir.join("kept-head.json");
    std::fs::write(&file, &kept)?;
    let report = tenderhall_api::cli::audit_verify(&app.settings, Some(&file)).await?;
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);

    app.state
        .db()
        .execute_unprepared("DELETE FROM audit_heads")
        .await?;
    let report = tenderhall_api::cli::audit_verify(&app.settings, Some(&file)).await?;
    assert!(
        report
            .breaks
            .iter()
            .any(|b| b.contains("you kept it, but it was deleted")),
        "{:?}",
        report.breaks
    );
    // A file that is not a head is refused with what to do.
    std::fs::write(&file, "{}")?;
    let err = tenderhall_api::cli::audit_verify(&app.settings, Some(&file))
        .await
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(err.contains("heads/latest"), "{err}");
    Ok(())
}

#[tokio::test]
async fn the_latest_signed_head_is_public_and_verifies_under_the_platform_key() -> TestResult {
    let app = TestApp::spawn().await?;
    assert_problem(
        app.get("/api/v1/audit/heads/latest", None).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    app.register("h@bidder.test", "bidder").await?;
    sign_head(app.state.db(), app.state.signer(), app.state.now()).await?;
    let head: Value = app
        .get("/api/v1/audit/heads/latest", None)
        .await?
        .json()
        .await?;
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    use base64::Engine;
    let public = base64::engine::general_purpose::STANDARD.decode(
        keys["receipt_key"]["public_key"]
            .as_str()
            .unwrap_or_default(),
    )?;
    assert_eq!(head["key_id"], keys["receipt_key"]["key_id"]);
    let message = format!(
        "tenderhall/audit-head/v1|{}",
        head["digest"].as_str().unwrap_or_default()
    );
    assert!(verify_ed25519(
        &public,
        message.as_bytes(),
        head["signature"].as_str().unwrap_or_default()
    ));
    // Nothing moved since: no new head.
    assert!(
        sign_head(app.state.db(), app.state.signer(), app.state.now())
            .await?
            .is_none()
    );
    Ok(())
}

#[tokio::test]
async fn supervisors_read_a_tender_log_without_entries_withheld_until_the_deadline() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (bidder, _) = app.member("ye@bidder.test", "bidder").await?;
    let now = app.state.now();
    let deadline = now + TimeDelta::hours(1);
    let txn = app.state.db().begin().await?;
    let actor = Actor::account("acc_test", Some("127.0.0.1".into()));
    store::append(
        &txn,
        NewEntry::new(Chain::tender("t_1"), &actor, "tender.publish", "tender:t_1"),
        now,
    )
    .await?;
    let mut hidden = NewEntry::new(Chain::tender("t_1"), &actor, "bid.submit", "lot:t_1/1")
        .details(json!({"bidder": "org_x"}));
    hidden.withheld_until = Some(deadline);
    store::append(&txn, hidden, now).await?;
    txn.commit().await?;

    let page: Value = app
        .get("/api/v1/tenders/t_1/audit", Some(&supervisor))
        .await?
        .json()
        .await?;
    let actions: Vec<&str> = page["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["tender.publish"]);

    app.clock.advance(TimeDelta::hours(1));
    let page: Value = app
        .get("/api/v1/tenders/t_1/audit", Some(&supervisor))
        .await?
        .json()
        .await?;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));

    for token in [&bidder, &operator] {
        assert_problem(
            app.get("/api/v1/tenders/t_1/audit", Some(token)).await?,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await?;
    }
    Ok(())
}
