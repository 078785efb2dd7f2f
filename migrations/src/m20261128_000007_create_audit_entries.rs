use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The audit log (电子招标投标办法 Art 49): time, actor, IP address, action, object; each entry
/// hash-chained to the one before it in its chain.
#[derive(DeriveIden)]
enum AuditEntries {
    Table,
    Id,
    Chain,
    Seq,
    At,
    Actor,
    Ip,
    Action,
    Object,
    /// Canonical JSON text, hashed as stored.
    Details,
    /// Hidden from supervisors until this time (a bid's existence before the deadline, Art 21).
    WithheldUntil,
    PrevHash,
    Hash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEntries::Table)
                    .col(big_pk_auto(AuditEntries::Id))
                    .col(string_len(AuditEntries::Chain, 80))
                    .col(big_integer(AuditEntries::Seq))
                    .col(timestamp_with_time_zone(AuditEntries::At))
                    .col(string_len_null(AuditEntries::Actor, 64))
                    .col(string_len_null(AuditEntries::Ip, 64))
                    .col(string_len(AuditEntries::Action, 64))
                    .col(string_len(AuditEntries::Object, 200))
                    .col(text(AuditEntries::Details))
                    .col(timestamp_with_time_zone_null(AuditEntries::WithheldUntil))
                    .col(string_len(AuditEntries::PrevHash, 64))
                    .col(string_len(AuditEntries::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_audit_entries_chain_seq")
                    .table(AuditEntries::Table)
                    .col(AuditEntries::Chain)
                    .col(AuditEntries::Seq)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
