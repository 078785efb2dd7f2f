use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DepositPayers {
    Table,
    PayerAccount,
    TenderId,
}

/// The shared-payer check (实施条例 Art 40) asks, for each payer of a batch, who else it paid in
/// the same tender: by (payer, tender), not every deposit a payer paid in every tender since.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_deposit_payers_payer_tender")
                    .table(DepositPayers::Table)
                    .col(DepositPayers::PayerAccount)
                    .col(DepositPayers::TenderId)
                    .to_owned(),
            )
            .await
    }
}
