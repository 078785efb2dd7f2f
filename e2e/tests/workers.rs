//! Worker processes on one database: every job done exactly once however many workers drain the
//! queue, and a job whose worker was killed mid-run runs again after its lease, its effect once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use tenderhall_domain::account::service::{
    NewOrganization, Registration, SignInPolicy, authenticate, register, sign_in,
};
use tenderhall_domain::id::TenderId;
use tenderhall_domain::jobs::JobStatus;
use tenderhall_domain::jobs::service::list;
use tenderhall_domain::money::MoneyInput;
use tenderhall_domain::tender::procedure::ProcedureSettings;
use tenderhall_domain::tender::service::{LotInput, TenderInput, create_draft, publish};
use tenderhall_e2e::{Site, terminate};

/// `n` tenders published a month ago whose deadlines have all passed: `n` deadline jobs due now.
async fn due_tenders(site: &Site, n: usize) -> anyhow::Result<(DatabaseConnection, Vec<String>)> {
    let (ok, out, err) = site.run(&["migrate"]).await?;
    anyhow::ensure!(ok, "migrate: {out}{err}");
    let db = tenderhall_domain::store::connect(&site.database_url()).await?;
    let past = Utc::now() - chrono::Duration::days(30);
    let registration = Registration {
        email: "queue@tenderer.test".into(),
        password: "correct-horse-42".into(),
        name: "队列".into(),
        organization: NewOrganization {
            name: "队列测试单位".into(),
            kind: "tenderer".into(),
            credit_code: "11000000000000000U".into(),
            basic_account: None,
        },
        language: None,
    };
    register(&db, registration, true, None, past).await?;
    let session = sign_in(
        &db,
        &SignInPolicy::default(),
        "queue@tenderer.test",
        "correct-horse-42",
        "127.0.0.1",
        past,
    )
    .await?;
    let principal = authenticate(&db, &session.token, past).await?;
    let mut ids = Vec::with_capacity(n);
    let master = tenderhall_domain::keys::MasterKey::generate()?;
    for i in 0..n {
        let input = TenderInput {
            title: format!("队列测试 {i}"),
            kind: "construction".into(),
            procedure: "open_tender".into(),
            award_method: "lowest_evaluated_price".into(),
            lots: vec![LotInput {
                id: "1".into(),
                title: "标段".into(),
                budget: MoneyInput::Text("100000".into()),
                deposit: MoneyInput::Text("1000".into()),
                price_ceiling: None,
                auction: None,
            }],
            document_fee: None,
            bid_deadline: past
                + chrono::Duration::days(21)
                + chrono::Duration::milliseconds(i as i64),
            bid_validity_days: None,
            opening_fields: None,
            accelerator: None,
            tenderer_id: None,
            evaluation: None,
            region: None,
        };
        let tender = create_draft(&db, &master, &principal, input, false, None, past).await?;
        publish(
            &db,
            &principal,
            &TenderId::parse(&tender.id)?,
            &ProcedureSettings::default(),
            &master,
            false,
            None,
            past,
        )
        .await?;
        ids.push(tender.id);
    }
    Ok((db, ids))
}

async fn count(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn wait_until_drained(db: &DatabaseConnection, timeout: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let open = count(
            db,
            // The daily scrub each worker schedules at start is due at 03:00, not now.
            "SELECT COUNT(*) FROM jobs WHERE status IN ('pending', 'running') AND kind <> 'documents.scrub'",
        )
        .await?;
        if open == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < timeout,
            "{open} jobs still open after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_worker_processes_drain_1000_jobs_each_exactly_once() -> anyhow::Result<()> {
    let site = Site::new().await?;
    // Both workers run before the jobs appear, so both take part in draining them.
    let (ok, out, err) = site.run(&["migrate"]).await?;
    anyhow::ensure!(ok, "migrate: {out}{err}");
    let fast_poll = [("TENDERHALL_JOB_POLL_SECONDS", "1")];
    let mut first = site.worker(&fast_poll).await?;
    let mut second = site.worker(&fast_poll).await?;
    let (db, ids) = due_tenders(&site, 1000).await?;
    wait_until_drained(&db, Duration::from_secs(180)).await?;
    terminate(&mut first).await?;
    terminate(&mut second).await?;

    let all_done = list(&db, Some(JobStatus::Done), 10_000).await?;
    // Each tender's question period ended ten days before its deadline (unless the other worker
    // closed the tender first, both being overdue), and each close, each end and each lot's
    // opening was mailed to the tenderer: those jobs are done exactly once too.
    let of_kind = |kind: &str| all_done.iter().filter(|j| j.kind == kind).count();
    assert_eq!(of_kind("tender.questions_close"), ids.len());
    let periods_ended = count(
        &db,
        "SELECT COUNT(*) FROM audit_entries WHERE action = 'tender.questions_closed'",
    )
    .await?;
    assert!(periods_ended > 0);
    // Each lot (one per tender, without bids) failed at its opening, which was mailed too.
    assert_eq!(of_kind("lot.open"), ids.len());
    assert_eq!(
        of_kind("mail.send"),
        2 * ids.len() + usize::try_from(periods_ended)?
    );
    assert!(
        all_done.iter().all(|j| j.attempts == 1),
        "a job was claimed twice"
    );
    let done: Vec<_> = all_done
        .into_iter()
        .filter(|j| j.kind == "tender.deadline")
        .collect();
    assert_eq!(done.len(), ids.len());
    assert!(
        done.iter().all(|j| j.attempts == 1),
        "a job was claimed twice"
    );
    let workers: HashSet<_> = done.iter().filter_map(|j| j.leased_by.clone()).collect();
    assert_eq!(
        workers.len(),
        2,
        "both workers should have taken jobs: {workers:?}"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM tenders WHERE status = 'closed'").await?,
        1000
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_entries WHERE action = 'tender.close'"
        )
        .await?,
        1000
    );
    let twice = count(&db, "SELECT COUNT(*) FROM (SELECT chain FROM audit_entries WHERE action = 'tender.close' GROUP BY chain HAVING COUNT(*) > 1) AS dup").await?;
    assert_eq!(twice, 0, "a tender was closed twice");
    Ok(())
}

#[tokio::test]
async fn a_worker_killed_mid_job_is_replaced_after_its_lease_and_the_effect_happens_once()
-> anyhow::Result<()> {
    let site = Site::new().await?;
    if !site.database_url().starts_with("postgres") {
        // SQLite has no row locks to hold a job half-done from outside; the PostgreSQL run
        // (TENDERHALL_TEST_DATABASE_URL, as .ci/run sets) covers it.
        eprintln!(
            "skipped on SQLite: needs PostgreSQL row locks to stop a worker mid-job (run with TENDERHALL_TEST_DATABASE_URL)"
        );
        return Ok(());
    }
    let (db, ids) = due_tenders(&site, 1).await?;
    let tender = &ids[0];

    // Hold the tender's row: the worker claims the job, then waits inside it.
    let lock = db.begin().await?;
    lock.execute_raw(Statement::from_string(
        DbBackend::Postgres,
        format!("SELECT id FROM tenders WHERE id = '{tender}' FOR UPDATE"),
    ))
    .await?;
    let mut doomed = site
        .worker(&[("TENDERHALL_JOB_LEASE_SECONDS", "2")])
        .await?;
    let started = Instant::now();
    while count(&db, "SELECT COUNT(*) FROM jobs WHERE status = 'running'").await? == 0 {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the worker never claimed the job"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The first due job (the end of the question period, then the deadline: both touch the held
    // tender row) is the one inside which the worker dies.
    let running: Vec<_> = list(&db, Some(JobStatus::Running), 10).await?;
    assert_eq!(running.len(), 1);
    let killed = running[0].id.clone();
    doomed.start_kill()?; // SIGKILL: the process dies mid-job
    doomed.wait().await?;
    lock.rollback().await?;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM tenders WHERE status = 'closed'").await?,
        0
    );

    let mut heir = site
        .worker(&[("TENDERHALL_JOB_LEASE_SECONDS", "2")])
        .await?;
    wait_until_drained(&db, Duration::from_secs(60)).await?;
    terminate(&mut heir).await?;

    let done = list(&db, Some(JobStatus::Done), 10).await?;
    let again = done
        .iter()
        .find(|j| j.id == killed)
        .ok_or_else(|| anyhow::anyhow!("the killed job was never done"))?;
    assert_eq!(again.attempts, 2, "the job ran again after the lease");
    assert!(
        done.iter()
            .filter(|j| j.id != killed)
            .all(|j| j.attempts == 1)
    );
    assert_eq!(
        done.iter().filter(|j| j.kind == "tender.deadline").count(),
        1
    );
    // Each effect once: the question period ended once, the tender closed once.
    assert!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_entries WHERE action = 'tender.questions_closed'"
        )
        .await?
            <= 1
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM tenders WHERE status = 'closed'").await?,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM audit_entries WHERE action = 'tender.close'"
        )
        .await?,
        1
    );
    Ok(())
}
