//! Signs the heads of the audit chains at a fixed interval, so that a history rewritten later no
//! longer matches what was published.

use tenderhall_domain::audit::service::sign_head;
use tokio::sync::watch;

use crate::WorkerContext;

pub async fn sign_periodically(ctx: WorkerContext, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(ctx.audit_head_interval) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        match sign_head(&ctx.db, &ctx.signer, ctx.clock.now()).await {
            Ok(Some(head)) => {
                tracing::info!(seq = head.seq, digest = %head.digest, "signed audit head")
            }
            Ok(None) => {}
            // Retried at the next tick; nothing is lost, the chains are intact.
            Err(e) => tracing::warn!(error = %e, "signing the audit head failed"),
        }
    }
}
