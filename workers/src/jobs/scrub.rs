//! The daily scrub of the document store: see `tenderhall_domain::tender::service::scrub`.

use tenderhall_domain::jobs::service::{self as jobs, Job};
use tenderhall_domain::tender::service::{scrub, scrub_job};

use crate::WorkerContext;

pub async fn run(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let domain = |e: tenderhall_domain::DomainError| anyhow::anyhow!("{e}");
    // Tomorrow's run first (its key is its day, so a second run of this job adds nothing): the
    // chain of daily scrubs never breaks, whatever happens below.
    jobs::enqueue(&ctx.db, scrub_job(job.run_at), ctx.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = scrub(&ctx.db, ctx.store.as_ref(), ctx.clock.now())
        .await
        .map_err(domain)?;
    if report.findings.is_empty() {
        tracing::info!(
            objects = report.objects_checked,
            bytes = report.bytes_checked,
            "document store scrub: every object intact"
        );
    } else {
        for f in &report.findings {
            tracing::error!(sha256 = %f.sha256, problem = f.problem, detail = %f.detail, "document store scrub: damaged object");
        }
    }
    Ok(())
}
