use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The durable job queue (transactional outbox): a job is inserted in the same transaction as the
/// change that causes it, and claimed by workers with a lease.
#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    /// JSON text.
    Payload,
    /// When it is due: a deadline job's `run_at` is the deadline (the chronograph).
    RunAt,
    /// `pending`, `running`, `done`, `dead`.
    Status,
    Attempts,
    MaxAttempts,
    LastError,
    /// A running job whose lease passed is claimed again (its worker died).
    LeaseUntil,
    LeasedBy,
    /// The same effect is enqueued once.
    IdempotencyKey,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(string_len(Jobs::Id, 64).primary_key())
                    .col(string_len(Jobs::Kind, 64))
                    .col(text(Jobs::Payload))
                    .col(timestamp_with_time_zone(Jobs::RunAt))
                    .col(string_len(Jobs::Status, 16))
                    .col(integer(Jobs::Attempts))
                    .col(integer(Jobs::MaxAttempts))
                    .col(text_null(Jobs::LastError))
                    .col(timestamp_with_time_zone_null(Jobs::LeaseUntil))
                    .col(string_len_null(Jobs::LeasedBy, 64))
                    .col(string_len_uniq(Jobs::IdempotencyKey, 200))
                    .col(timestamp_with_time_zone(Jobs::CreatedAt))
                    .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_jobs_status_run_at")
                    .table(Jobs::Table)
                    .col(Jobs::Status)
                    .col(Jobs::RunAt)
                    .to_owned(),
            )
            .await
    }
}
