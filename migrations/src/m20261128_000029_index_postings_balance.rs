use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Postings {
    Table,
    Account,
    AmountFen,
}

/// A balance is summed from its account's postings on every payment (the overpayment check): with
/// the amount in the index, the sum reads the index alone, not a table row per posting.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_postings_account_amount")
                    .table(Postings::Table)
                    .col(Postings::Account)
                    .col(Postings::AmountFen)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_postings_account")
                    .table(Postings::Table)
                    .to_owned(),
            )
            .await
    }
}
