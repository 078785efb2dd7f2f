use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Periodic signed heads of the audit chains, each committing to the one before it, so a history
/// rewritten after a head was published is detectable from outside.
#[derive(DeriveIden)]
enum AuditHeads {
    Table,
    Seq,
    SignedAt,
    /// Canonical JSON text of the head (sequence, time, previous digest, chain tips).
    Body,
    /// Lowercase hex SHA-256 of `body`.
    Digest,
    KeyId,
    Signature,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditHeads::Table)
                    .col(big_integer(AuditHeads::Seq).primary_key())
                    .col(timestamp_with_time_zone(AuditHeads::SignedAt))
                    .col(text(AuditHeads::Body))
                    .col(string_len(AuditHeads::Digest, 64))
                    .col(string_len(AuditHeads::KeyId, 64))
                    .col(text(AuditHeads::Signature))
                    .to_owned(),
            )
            .await
    }
}
