use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261128_000002_create_accounts::Accounts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Added {
    /// `zh-CN` or `en`: the language of the account's mail and notifications.
    Language,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(string_len(Added::Language, 8).default("zh-CN"))
                    .to_owned(),
            )
            .await
    }
}
