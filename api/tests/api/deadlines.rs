//! The chronograph: a published tender's deadline is a durable job that closes it; running it twice
//! changes nothing; a job that keeps failing goes dead and an operator retries it.

use chrono::TimeDelta;
use sea_orm::TransactionTrait;
use serde_json::{Value, json};
use tenderhall_api::cli::worker_context;
use tenderhall_domain::id::TenderId;
use tenderhall_domain::jobs::service::{enqueue, list};
use tenderhall_domain::jobs::{JobStatus, NewJob};
use tenderhall_workers::runner::Runner;

use crate::helpers::{TestApp, TestResult};

async fn published_tender(app: &TestApp, days: i64) -> anyhow::Result<(String, String)> {
    let (token, _) = app.member("chrono@tenderer.test", "tenderer").await?;
    let id = app
        .published_goods_tender(&token, "定时测试项目", days)
        .await?;
    Ok((id, token))
}

#[tokio::test]
async fn a_tender_closes_at_its_deadline_once_however_often_the_job_runs() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (id, _) = published_tender(&app, 21).await?;
    let runner = Runner::new(worker_context(&app.state)?);

    // Not due yet: nothing runs, the tender stays active.
    assert!(!runner.run_one().await?);
    app.clock
        .advance(TimeDelta::days(21) - TimeDelta::seconds(1));
    // Only the question period's end (10 days before, 实施条例 Art 22) and its mail are due.
    while runner.run_one().await? {}
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(tender["status"], "active");

    app.clock.advance(TimeDelta::seconds(1));
    assert!(runner.run_one().await?);
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(tender["status"], "closed");
    // What is left is the owners' notification mail; the deadline job does not come back.
    while runner.run_one().await? {}

    // Even a second run of the same effect (a worker dying before recording it) changes nothing.
    assert!(
        !tenderhall_domain::tender::service::close_at_deadline(
            app.state.db(),
            &TenderId::parse(&id)?,
            app.state.now()
        )
        .await?
    );
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let log: Value = app
        .get(&format!("/api/v1/tenders/{id}/audit"), Some(&supervisor))
        .await?
        .json()
        .await?;
    let closes = log["items"]
        .as_array()
        .map(|a| a.iter().filter(|e| e["action"] == "tender.close").count());
    assert_eq!(closes, Some(1));
    let done = list(app.state.db(), Some(JobStatus::Done), 10).await?;
    let deadline_jobs: Vec<_> = done
        .iter()
        .filter(|j| j.kind == "tender.deadline")
        .collect();
    assert_eq!(deadline_jobs.len(), 1);
    assert_eq!(deadline_jobs[0].attempts, 1, "the deadline job ran twice");
    Ok(())
}

#[tokio::test]
async fn a_cancelled_tender_is_not_closed_by_its_deadline() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (id, token) = published_tender(&app, 21).await?;
    app.post(
        &format!("/api/v1/tenders/{id}/cancel"),
        &json!({"reason": "需求变更"}),
        Some(&token),
    )
    .await?;
    app.clock.advance(TimeDelta::days(22));
    let runner = Runner::new(worker_context(&app.state)?);
    assert!(runner.run_one().await?);
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(tender["status"], "cancelled");
    Ok(())
}

#[tokio::test]
async fn a_job_that_keeps_failing_goes_dead_and_an_operator_retries_it() -> TestResult {
    let app = TestApp::spawn().await?;
    let txn = app.state.db().begin().await?;
    let mut job = NewJob::new("no.such.handler", json!({}), app.state.now(), "test:dead");
    job.max_attempts = 2;
    assert!(enqueue(&txn, job.clone(), app.state.now()).await?);
    // The same idempotency key again: still one job.
    assert!(!enqueue(&txn, job, app.state.now()).await?);
    txn.commit().await?;

    let runner = Runner::new(worker_context(&app.state)?);
    assert!(runner.run_one().await?);
    let pending = list(app.state.db(), Some(JobStatus::Pending), 10).await?;
    assert_eq!(pending.len(), 1, "a first failure is retried later");
    assert!(
        pending[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("no handler"))
    );
    assert!(!runner.run_one().await?, "retried before its backoff");
    app.clock.advance(TimeDelta::hours(2));
    assert!(runner.run_one().await?);
    let dead = list(app.state.db(), Some(JobStatus::Dead), 10).await?;
    assert_eq!(dead.len(), 1);

    tenderhall_api::cli::jobs_retry(&app.settings, &dead[0].id).await?;
    let pending = list(app.state.db(), Some(JobStatus::Pending), 10).await?;
    assert_eq!((pending.len(), pending[0].attempts), (1, 0));
    Ok(())
}
