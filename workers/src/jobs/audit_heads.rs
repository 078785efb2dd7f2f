//! Signs the heads of the audit chains at a fixed interval, so that a history rewritten later no
//! longer matches what was published.

use tenderhall_domain::audit::service::sign_and_publish_head;
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
        // Signed in the database, then kept in the document store too (a second system an
        // attacker of the database does not hold); a copy that failed is written at the next tick.
        match sign_and_publish_head(&ctx.db, &ctx.signer, ctx.store.as_ref(), ctx.clock.now()).await
        {
            Ok(Some(head)) => {
                tracing::info!(seq = head.seq, digest = %head.digest, "signed audit head")
            }
            Ok(None) => {}
            // Retried at the next tick; nothing is lost, the chains are intact.
            Err(e) => tracing::warn!(error = %e, "signing or keeping the audit head failed"),
        }
    }
}
