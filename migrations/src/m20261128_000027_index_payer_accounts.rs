use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankNotifications {
    Table,
    PayerAccount,
}

/// Every deposit payment looks for other accounts the same payer paid into (实施条例 Art 40): by
/// index, not by reading every notification ever received.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_bank_notifications_payer")
                    .table(BankNotifications::Table)
                    .col(BankNotifications::PayerAccount)
                    .to_owned(),
            )
            .await
    }
}
