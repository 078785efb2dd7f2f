use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Organizations {
    Table,
    Id,
    Name,
    Kind,
    CreditCode,
    BasicAccount,
    Verified,
    VerifiedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(string_len(Organizations::Id, 64).primary_key())
                    .col(text(Organizations::Name))
                    .col(string_len(Organizations::Kind, 16))
                    .col(string_len(Organizations::CreditCode, 64))
                    .col(string_len_null(Organizations::BasicAccount, 64))
                    .col(boolean(Organizations::Verified))
                    .col(timestamp_with_time_zone_null(Organizations::VerifiedAt))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organizations_verified")
                    .table(Organizations::Table)
                    .col(Organizations::Verified)
                    .to_owned(),
            )
            .await
    }
}
