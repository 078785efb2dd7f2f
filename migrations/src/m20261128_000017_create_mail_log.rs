use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Messages a mail server (or the outbox) accepted, by idempotency key: a retried mail job that
/// finds its key here sends nothing again.
#[derive(DeriveIden)]
enum MailLog {
    Table,
    MessageKey,
    Recipient,
    Subject,
    Transport,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailLog::Table)
                    .col(string_len(MailLog::MessageKey, 200).primary_key())
                    .col(string_len(MailLog::Recipient, 254))
                    .col(text(MailLog::Subject))
                    .col(string_len(MailLog::Transport, 16))
                    .col(timestamp_with_time_zone(MailLog::SentAt))
                    .to_owned(),
            )
            .await
    }
}
