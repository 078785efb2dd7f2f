use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261128_000001_create_organizations::Organizations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Accounts {
    Table,
    Id,
    /// Lower-cased, so sign-in is case-insensitive and the unique index means one account per address.
    Email,
    PasswordHash,
    Name,
    OrganizationId,
    IsOperator,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Accounts::Table)
                    .col(string_len(Accounts::Id, 64).primary_key())
                    .col(string_len_uniq(Accounts::Email, 254))
                    .col(text(Accounts::PasswordHash))
                    .col(text(Accounts::Name))
                    .col(string_len_null(Accounts::OrganizationId, 64))
                    .col(boolean(Accounts::IsOperator))
                    .col(timestamp_with_time_zone(Accounts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_accounts_organization")
                            .from(Accounts::Table, Accounts::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_accounts_organization")
                    .table(Accounts::Table)
                    .col(Accounts::OrganizationId)
                    .to_owned(),
            )
            .await
    }
}
