use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BankNotifications {
    Table,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Postings {
    Table,
}

/// Indexes that follow how notifications and postings are read. Every credit writes a notification
/// and two postings, so each index on them is paid for by every payment of every bidder:
/// - No query looks a notification up by account or payer any more (the shared-payer check of
///   实施条例 Art 40 reads `deposit_payers`), nor postings by entry (balances go by account; the
///   ledger check reads them all); those three indexes go.
/// - Reconciliation reads a statement's period by `received_at`, and operators list the suspense
///   payments oldest first: both read an index instead of every notification ever received. The
///   suspense index holds only suspense payments, so a credit adds nothing to it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            (
                "idx_bank_notifications_account",
                BankNotifications::Table.into_iden(),
            ),
            (
                "idx_bank_notifications_payer",
                BankNotifications::Table.into_iden(),
            ),
            ("idx_postings_entry", Postings::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_bank_notifications_received")
                    .table(BankNotifications::Table)
                    .col(BankNotifications::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        // A partial index: sea-query has no WHERE for indexes; both backends take this text.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_bank_notifications_suspense ON bank_notifications (received_at) \
                 WHERE outcome = 'suspense'",
            )
            .await?;
        Ok(())
    }
}
