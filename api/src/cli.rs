//! What each subcommand does, given the settings. `main.rs` only parses arguments.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tenderhall_domain::account::service::{
    create_operator as create_operator_account, verify_organization,
};
use tenderhall_domain::audit::Actor;
use tenderhall_domain::audit::service::{
    AuditReport, SignedHead, Witnesses, sign_and_publish_head, verify_all,
};
use tenderhall_domain::id::{JobId, OrganizationId};
use tenderhall_domain::keys::service::{load_or_create_platform_signer, platform_public_keys};
use tenderhall_domain::time::{Clock, SystemClock};
use tenderhall_workers::WorkerContext;
use tokio::sync::watch;

use crate::config::Settings;
use crate::platform;
use crate::state::AppState;

fn domain_err(e: tenderhall_domain::DomainError) -> anyhow::Error {
    use tenderhall_domain::DomainError as E;
    match e {
        E::Invalid { message, field, .. } => {
            anyhow::anyhow!(
                "{}{}",
                field.map(|f| format!("{f}: ")).unwrap_or_default(),
                message.en
            )
        }
        E::Refused { message, .. } => anyhow::anyhow!("{}", message.en),
        E::NotFound => anyhow::anyhow!("not found"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// The background work's view of the platform, sharing this process's job wake-ups.
pub fn worker_context(state: &AppState) -> anyhow::Result<WorkerContext> {
    let settings = state.settings();
    let mailer = tenderhall_workers::mail::Mailer::new(
        settings.smtp_url.as_ref().map(|s| s.expose()),
        &settings.outbox_dir(),
    )?;
    Ok(WorkerContext {
        db: state.db().clone(),
        signer: state.signer().clone(),
        clock: state.clock(),
        audit_head_interval: Duration::from_secs(u64::from(
            settings.audit_head_interval_seconds.max(1),
        )),
        worker_id: tenderhall_workers::worker_id(),
        lease: Duration::from_secs(u64::from(settings.job_lease_seconds.max(1))),
        poll: Duration::from_secs(u64::from(settings.job_poll_seconds.max(1))),
        wake: state.jobs_wake(),
        mailer: std::sync::Arc::new(mailer),
        mail_from: settings.mail_from.parse().context("TENDERHALL_MAIL_FROM")?,
        store: state.store().clone(),
        master_key: state.master_key().clone(),
        interest_rate: state.deposits().interest_rate,
        draws: settings.draw_settings()?,
        public_url: settings.public_url(),
        bank: if settings.sandbox {
            std::sync::Arc::new(tenderhall_workers::bank::SandboxBank::new(
                state.db().clone(),
                state.clock(),
            ))
        } else {
            std::sync::Arc::new(tenderhall_workers::bank::FileBank::new(
                settings.data_dir.join("bank-out"),
            ))
        },
    })
}

/// `tenderhall serve`: the API with the background work in-process.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let addr = settings.listen_addr()?;
    println!("Tenderhall — effective configuration:");
    for (key, value) in settings.describe() {
        println!("  {key:<40} {value}");
    }
    let state = platform::open(settings, Arc::new(SystemClock)).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}: is another program using it? Set TENDERHALL_LISTEN to another address"))?;
    let bound = listener.local_addr()?;
    println!("Tenderhall is listening on http://{bound}");
    println!(
        "Open http://{bound}/ in a browser; the API reference is at http://{bound}/api/v1/docs/"
    );

    let (stop, stopped) = watch::channel(false);
    let background = tokio::spawn(tenderhall_workers::run(worker_context(&state)?, stopped));
    crate::server::serve(listener, state, crate::server::shutdown_signal()).await?;
    let _ = stop.send(true);
    let _ = background.await;
    tracing::info!("stopped");
    Ok(())
}

/// `tenderhall worker`: the background work alone.
pub async fn worker(settings: Settings) -> anyhow::Result<()> {
    let state = platform::open(settings, Arc::new(SystemClock)).await?;
    println!("Tenderhall worker running; stop it with Ctrl-C");
    let (stop, stopped) = watch::channel(false);
    let background = tokio::spawn(tenderhall_workers::run(worker_context(&state)?, stopped));
    crate::server::shutdown_signal().await;
    let _ = stop.send(true);
    let _ = background.await;
    Ok(())
}

/// `tenderhall migrate`: apply pending migrations and stop.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let db = platform::connect(settings).await?;
    platform::migrate(&db).await?;
    println!(
        "The database {} is up to date.",
        tenderhall_domain::store::redact_url(&settings.database_url())
    );
    Ok(())
}

/// The new operator's password: `--password` (with a warning), else TENDERHALL_OPERATOR_PASSWORD,
/// else asked twice on the terminal without echo, else the first line of standard input (for
/// `printf '%s\n' "$PW" | tenderhall admin create-operator ...`).
pub fn operator_password(flag: Option<String>) -> anyhow::Result<String> {
    if let Some(password) = flag {
        eprintln!(
            "warning: --password shows the password to everyone who lists processes; pipe it on standard input instead"
        );
        return Ok(password);
    }
    if let Ok(password) = std::env::var("TENDERHALL_OPERATOR_PASSWORD") {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Operator password: ")?;
        let again = rpassword::prompt_password("The same password again: ")?;
        anyhow::ensure!(
            first == again,
            "the two passwords differ; nothing was created"
        );
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password: type it at the prompt, pipe it on standard input, or set TENDERHALL_OPERATOR_PASSWORD"
    );
    Ok(password)
}

/// `tenderhall admin create-operator`.
pub async fn create_operator(
    settings: Settings,
    email: &str,
    password: &str,
    name: &str,
) -> anyhow::Result<String> {
    let state = platform::open(settings, Arc::new(SystemClock)).await?;
    let id = create_operator_account(state.db(), email, password, name, state.now())
        .await
        .map_err(domain_err)?;
    Ok(id.to_string())
}

/// `tenderhall admin verify-org`.
pub async fn verify_org(settings: Settings, org_id: &str) -> anyhow::Result<String> {
    let state = platform::open(settings, Arc::new(SystemClock)).await?;
    // An id that is no id is answered as an unknown one.
    let verified = match OrganizationId::parse(org_id) {
        Ok(org) => verify_organization(state.db(), &Actor::cli(), &org, state.now()).await,
        Err(e) => Err(e),
    };
    let org = verified.map_err(|e| match e {
        tenderhall_domain::DomainError::NotFound => {
            anyhow::anyhow!("there is no organization `{org_id}`")
        }
        other => domain_err(other),
    })?;
    Ok(format!(
        "{} ({}, {}) is verified",
        org.id, org.name, org.kind
    ))
}

/// `tenderhall audit verify`: recompute every chain and signed head. Read-only: it changes nothing,
/// not even the schema.
pub async fn audit_verify(
    settings: &Settings,
    kept_head: Option<&std::path::Path>,
) -> anyhow::Result<AuditReport> {
    let kept: Option<SignedHead> = match kept_head {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the head file {}", path.display()))?;
            Some(serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a signed head: save the JSON answer of GET /api/v1/audit/heads/latest",
                    path.display()
                )
            })?)
        }
        None => None,
    };
    let db = platform::connect(settings).await?;
    let keys = platform_public_keys(&db).await.map_err(domain_err)?;
    let store = platform::open_store(settings).await?;
    let witnesses = Witnesses {
        platform_keys: &keys,
        store: Some(store.as_ref()),
        kept: kept.as_ref(),
    };
    Ok(verify_all(&db, witnesses).await?)
}

/// `tenderhall audit sign-head`: sign a head now instead of waiting for the interval.
pub async fn audit_sign_head(settings: Settings) -> anyhow::Result<Option<i64>> {
    let db = platform::connect(&settings).await?;
    platform::migrate(&db).await?;
    let master = settings.resolve_master_key()?;
    let clock = SystemClock;
    let signer = load_or_create_platform_signer(&db, &master, clock.now())
        .await
        .map_err(domain_err)?;
    let store = platform::open_store(&settings).await?;
    let head = sign_and_publish_head(&db, &signer, store.as_ref(), clock.now())
        .await
        .map_err(domain_err)?;
    Ok(head.map(|h| h.seq))
}

/// Prints a verification report; an error when anything is broken.
pub fn print_report(report: &AuditReport) -> anyhow::Result<()> {
    if report.breaks.is_empty() {
        println!(
            "audit log intact: {} chains, {} entries, {} signed heads verified",
            report.chains, report.entries, report.heads
        );
        return Ok(());
    }
    for b in &report.breaks {
        println!("BROKEN: {b}");
    }
    bail!(
        "the audit log does not verify: {} problem(s); the first broken entry is named above",
        report.breaks.len()
    )
}

/// `tenderhall jobs list`.
pub async fn jobs_list(
    settings: &Settings,
    status: Option<&str>,
    limit: u64,
) -> anyhow::Result<()> {
    use tenderhall_domain::jobs::JobStatus;
    let status = status
        .map(|s| {
            JobStatus::parse(s).ok_or_else(|| {
                anyhow::anyhow!("--status is one of pending, running, done, dead, not `{s}`")
            })
        })
        .transpose()?;
    let db = platform::connect(settings).await?;
    let jobs = tenderhall_domain::jobs::service::list(&db, status, limit)
        .await
        .map_err(domain_err)?;
    if jobs.is_empty() {
        println!("no jobs");
    }
    for job in jobs {
        println!(
            "{}  {:<8} {:<20} due {}  attempts {}/{}{}",
            job.id,
            job.status.as_str(),
            job.kind,
            tenderhall_domain::time::rfc3339(job.run_at),
            job.attempts,
            job.max_attempts,
            job.last_error
                .map(|e| format!("  last error: {e}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// `tenderhall documents scrub`: the daily check, now, with its report.
pub async fn documents_scrub(settings: Settings) -> anyhow::Result<()> {
    let state = platform::open(settings, Arc::new(SystemClock)).await?;
    let report = tenderhall_domain::tender::service::scrub(
        state.db(),
        state.store().as_ref(),
        SystemClock.now(),
    )
    .await
    .map_err(domain_err)?;
    println!(
        "checked {} stored objects ({} bytes) in the {} store",
        report.objects_checked,
        report.bytes_checked,
        state.store().name()
    );
    if report.findings.is_empty() {
        println!("every object is intact");
        return Ok(());
    }
    for f in &report.findings {
        let docs: Vec<String> = f
            .documents
            .iter()
            .map(|(tender, doc)| format!("{tender}/{doc}"))
            .collect();
        println!(
            "{}  {}  {}  ({})",
            f.problem,
            f.sha256,
            docs.join(" "),
            f.detail
        );
    }
    anyhow::bail!(
        "{} damaged or missing objects: restore them from backup (the operators were notified)",
        report.findings.len()
    )
}

/// `tenderhall experts import FILE.csv`: the operator's import at the server's console.
pub async fn experts_import(settings: &Settings, path: &std::path::Path) -> anyhow::Result<()> {
    use tenderhall_domain::expert::service::{Importer, import_csv};
    let csv = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // As the operator's other tasks: the schema is brought up to date first.
    let state = platform::open(settings.clone(), Arc::new(SystemClock)).await?;
    let report = import_csv(
        state.db(),
        Importer::Console,
        &csv,
        &settings.public_url(),
        state.now(),
    )
    .await
    .map_err(domain_err)?;
    println!("{} experts imported 已导入", report.imported);
    for rejected in &report.rejected {
        println!("line {}: {}", rejected.line, rejected.reason);
    }
    if !report.rejected.is_empty() {
        bail!(
            "{} rows rejected (listed above); fix them and import the file again",
            report.rejected.len()
        );
    }
    Ok(())
}

/// `tenderhall ledger check`: read-only.
pub async fn ledger_check(settings: &Settings) -> anyhow::Result<()> {
    let db = platform::connect(settings).await?;
    let report = tenderhall_domain::deposit::service::check_ledger(&db)
        .await
        .map_err(domain_err)?;
    println!(
        "{} journal entries, {} postings, {} accounts",
        report.entries,
        report.postings,
        report.balances.len()
    );
    for (entry, sum) in &report.unbalanced {
        println!("unbalanced entry {entry}: its postings sum to {sum} fen");
    }
    for (account, balance) in &report.wrong_side {
        println!("account {account} is on the wrong side of zero: {balance} fen");
    }
    if let Some((notified, arrived)) = report.bank_mismatch {
        println!(
            "the bank notified {notified} fen, the ledger shows {arrived} fen arriving at the bank"
        );
    }
    if report.is_sound() {
        println!("the ledger balances");
        Ok(())
    } else {
        anyhow::bail!("the ledger does not balance: see above")
    }
}

/// One statement row as the bank's CSV has it.
#[derive(Debug, serde::Deserialize)]
struct StatementRow {
    bank_txn_id: String,
    direction: String,
    account_no: String,
    amount: String,
    currency: Option<String>,
    booked_at: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    reference: String,
}

/// Reads a bank statement, naming the line at fault.
pub fn read_statement(
    path: &std::path::Path,
) -> anyhow::Result<Vec<tenderhall_domain::deposit::service::StatementLine>> {
    use tenderhall_domain::money::{Currency, Money};
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read the statement {}", path.display()))?;
    let mut lines = Vec::new();
    for (i, row) in reader.deserialize::<StatementRow>().enumerate() {
        let line = i + 2; // the header is line 1
        let row = row.with_context(|| {
            format!(
                "{} line {line}: expected bank_txn_id,direction,account_no,amount,currency,booked_at,reference",
                path.display()
            )
        })?;
        if row.direction != "in" && row.direction != "out" {
            anyhow::bail!(
                "{} line {line}: direction is `in` or `out`, not `{}`",
                path.display(),
                row.direction
            );
        }
        let currency: Currency = row
            .currency
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or("CNY")
            .parse()
            .map_err(|e| anyhow::anyhow!("{} line {line}: {e}", path.display()))?;
        let amount_fen = Money::parse(&row.amount, currency)
            .and_then(|m| m.minor_units())
            .map_err(|e| anyhow::anyhow!("{} line {line}: amount {e}", path.display()))?;
        lines.push(tenderhall_domain::deposit::service::StatementLine {
            bank_txn_id: row.bank_txn_id,
            direction: row.direction,
            account_no: row.account_no,
            amount_fen,
            currency: currency.code().to_owned(),
            booked_at: row.booked_at,
            reference: row.reference,
        });
    }
    Ok(lines)
}

/// `tenderhall bank reconcile`: read-only.
pub async fn bank_reconcile(settings: &Settings, path: &std::path::Path) -> anyhow::Result<()> {
    let lines = read_statement(path)?;
    let db = platform::connect(settings).await?;
    let report = tenderhall_domain::deposit::service::reconcile(&db, &lines)
        .await
        .map_err(domain_err)?;
    println!(
        "{} statement lines, {} matched",
        lines.len(),
        report.matched
    );
    for l in &report.bank_only {
        println!("bank only:     {l}");
    }
    for l in &report.platform_only {
        println!("platform only: {l}");
    }
    for l in &report.differing {
        println!("differs:       {l}");
    }
    if report.is_clean() {
        println!("the statement and the platform agree");
        Ok(())
    } else {
        anyhow::bail!(
            "{} differences between the statement and the platform",
            report.bank_only.len() + report.platform_only.len() + report.differing.len()
        )
    }
}

/// `tenderhall jobs retry`.
pub async fn jobs_retry(settings: &Settings, id: &str) -> anyhow::Result<()> {
    let db = platform::connect(settings).await?;
    platform::migrate(&db).await?;
    // An id that is no id is answered as an unknown one.
    let retried = match JobId::parse(id) {
        Ok(job) => {
            tenderhall_domain::jobs::service::retry(&db, &job, &Actor::cli(), SystemClock.now())
                .await
        }
        Err(e) => Err(e),
    };
    let job = retried.map_err(|e| match e {
        tenderhall_domain::DomainError::NotFound => anyhow::anyhow!("there is no job `{id}`"),
        other => domain_err(other),
    })?;
    println!("job {} ({}) is queued again", job.id, job.kind);
    Ok(())
}
