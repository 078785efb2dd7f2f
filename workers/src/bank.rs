//! Adapters of the domain's `BankGateway` port: refund instructions as files the collecting bank
//! picks up (the default), and the sandbox bank that pays and confirms at once.

use std::path::PathBuf;

use sea_orm::DatabaseConnection;
use tenderhall_domain::deposit::service::{RefundOutcome, confirm_refund};
use tenderhall_domain::id::RefundId;
use tenderhall_domain::ports::{BankGateway, BoxFuture, GatewayError, RefundInstruction};
use tenderhall_domain::time::Clock;

/// Writes each instruction as `<refund_id>.json` in a folder the bank's file interface collects;
/// the bank confirms through `POST /api/v1/bank/refund-confirmations`. A file is written whole
/// (temporary name, flushed, renamed) and named by the refund, so sending twice writes the same file.
pub struct FileBank {
    dir: PathBuf,
}

impl FileBank {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }
}

impl BankGateway for FileBank {
    fn send_refund(
        &self,
        instruction: &RefundInstruction,
    ) -> BoxFuture<'_, Result<String, GatewayError>> {
        let instruction = instruction.clone();
        Box::pin(async move {
            let unavailable = |e: std::io::Error| GatewayError::Unavailable(e.to_string());
            tokio::fs::create_dir_all(&self.dir)
                .await
                .map_err(unavailable)?;
            let name = format!("{}.json", instruction.refund_id);
            let body = serde_json::json!({
                "refund_id": instruction.refund_id,
                "payee_account": instruction.payee_account,
                "amount_fen": instruction.amount_fen,
                "currency": instruction.currency,
                "memo": instruction.memo,
            })
            .to_string();
            let tmp = self.dir.join(format!("{name}.part"));
            let file = self.dir.join(&name);
            {
                use tokio::io::AsyncWriteExt;
                let mut out = tokio::fs::File::create(&tmp).await.map_err(unavailable)?;
                out.write_all(body.as_bytes()).await.map_err(unavailable)?;
                out.sync_all().await.map_err(unavailable)?;
            }
            tokio::fs::rename(&tmp, &file).await.map_err(unavailable)?;
            Ok(format!("file:{name}"))
        })
    }

    fn name(&self) -> &'static str {
        "file"
    }
}

/// The sandbox bank: takes every instruction with a payee account and confirms it paid at once,
/// through the same confirmation the real bank sends; one without a payee account fails, as a real
/// bank would refuse it.
pub struct SandboxBank {
    db: DatabaseConnection,
    clock: std::sync::Arc<dyn Clock>,
}

impl SandboxBank {
    pub fn new(db: DatabaseConnection, clock: std::sync::Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }
}

impl BankGateway for SandboxBank {
    fn send_refund(
        &self,
        instruction: &RefundInstruction,
    ) -> BoxFuture<'_, Result<String, GatewayError>> {
        let instruction = instruction.clone();
        Box::pin(async move {
            if instruction.payee_account.trim().is_empty() {
                return Err(GatewayError::Refused(
                    "no payee account: the organization has no basic account on record".to_owned(),
                ));
            }
            let bank_ref = format!("SANDBOX-{}", instruction.refund_id);
            // An id that is no id is refused as an unknown refund is: not found.
            let refund = RefundId::parse(&instruction.refund_id)
                .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
            confirm_refund(
                &self.db,
                &refund,
                RefundOutcome::Paid,
                &bank_ref,
                self.clock.now(),
            )
            .await
            .map_err(|e| GatewayError::Unavailable(e.to_string()))?;
            Ok(bank_ref)
        })
    }

    fn name(&self) -> &'static str {
        "sandbox"
    }
}
