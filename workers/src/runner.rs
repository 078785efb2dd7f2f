//! The job runner: claim a due job, run it, record the outcome; then sleep exactly until the next
//! job is due, so a deadline fires on time rather than at the next poll.

use std::time::Duration;

use tenderhall_domain::jobs::service::{Job, claim, complete, fail, next_wake};
use tokio::sync::watch;

use crate::WorkerContext;
use crate::jobs::dispatch;

pub struct Runner {
    ctx: WorkerContext,
}

impl Runner {
    pub fn new(ctx: WorkerContext) -> Self {
        Self { ctx }
    }

    /// Claims and runs one due job; false when none is due. Tests call it to drain the queue.
    pub async fn run_one(&self) -> anyhow::Result<bool> {
        let ctx = &self.ctx;
        let Some(job) = claim(&ctx.db, &ctx.worker_id, ctx.clock.now(), ctx.lease).await? else {
            return Ok(false);
        };
        self.finish(&job, dispatch(ctx, &job).await).await?;
        Ok(true)
    }

    async fn finish(&self, job: &Job, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
        let ctx = &self.ctx;
        match outcome {
            Ok(()) => {
                if !complete(&ctx.db, job, &ctx.worker_id, ctx.clock.now()).await? {
                    tracing::warn!(job = %job.id, kind = %job.kind, "job finished after its lease was taken over");
                }
            }
            Err(e) => {
                let status = fail(
                    &ctx.db,
                    job,
                    &ctx.worker_id,
                    &format!("{e:#}"),
                    ctx.clock.now(),
                )
                .await?;
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, status = status.as_str(), error = %format!("{e:#}"), "job failed");
            }
        }
        Ok(())
    }

    /// Runs jobs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            loop {
                if *shutdown.borrow() {
                    return;
                }
                match self.run_one().await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        // The database is away: look again shortly; nothing is lost, the job stays queued.
                        tracing::warn!(error = %format!("{e:#}"), "job runner could not reach the queue");
                        break;
                    }
                }
            }
            let pause = self.pause().await;
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.ctx.wake.notified() => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Until the next job is due (a millisecond after, so it is due when we look), at most `poll`.
    async fn pause(&self) -> Duration {
        match next_wake(&self.ctx.db).await {
            Ok(Some(at)) => (at - self.ctx.clock.now())
                .to_std()
                .map_or(Duration::ZERO, |d| d + Duration::from_millis(1))
                .min(self.ctx.poll),
            Ok(None) => self.ctx.poll,
            Err(_) => Duration::from_secs(1).min(self.ctx.poll),
        }
    }
}
