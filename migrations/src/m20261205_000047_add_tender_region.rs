use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenders {
    Table,
    Region,
}

/// The administrative division a tender is for (GB/T 2260 code), so the public hall can list a
/// province's or a city's announcements (docs/spec/api-contract.md "Tenders").
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenders::Table)
                    .add_column(string_len_null(Tenders::Region, 6))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tenders_region")
                    .table(Tenders::Table)
                    .col(Tenders::Region)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_tenders_region")
                    .table(Tenders::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenders::Table)
                    .drop_column(Tenders::Region)
                    .to_owned(),
            )
            .await
    }
}
