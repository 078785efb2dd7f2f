use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tip of each audit chain: one row per tender (and one for the platform), locked while an
/// entry is appended so that appends to one chain queue and different chains never wait.
#[derive(DeriveIden)]
enum AuditChains {
    Table,
    Chain,
    LastSeq,
    LastHash,
    /// The sequence number last covered by a signed head.
    SignedSeq,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditChains::Table)
                    .col(string_len(AuditChains::Chain, 80).primary_key())
                    .col(big_integer(AuditChains::LastSeq))
                    .col(string_len(AuditChains::LastHash, 64))
                    .col(big_integer(AuditChains::SignedSeq))
                    .col(timestamp_with_time_zone(AuditChains::UpdatedAt))
                    .to_owned(),
            )
            .await
    }
}
