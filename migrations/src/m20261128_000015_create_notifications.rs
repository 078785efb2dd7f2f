use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// In-platform notifications, in the recipient's language.
#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    AccountId,
    Kind,
    Title,
    Body,
    /// Where it is about, e.g. `tender:tnd_…`.
    Object,
    CreatedAt,
    ReadAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(string_len(Notifications::Id, 64).primary_key())
                    .col(string_len(Notifications::AccountId, 64))
                    .col(string_len(Notifications::Kind, 64))
                    .col(text(Notifications::Title))
                    .col(text(Notifications::Body))
                    .col(string_len_null(Notifications::Object, 200))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_account")
                    .table(Notifications::Table)
                    .col(Notifications::AccountId)
                    .col(Notifications::Id)
                    .to_owned(),
            )
            .await
    }
}
