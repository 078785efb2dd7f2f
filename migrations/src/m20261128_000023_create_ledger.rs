use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The double-entry ledger: every movement of money is a journal entry whose postings sum to zero;
/// balances are sums of postings, never stored on their own.
#[derive(DeriveIden)]
enum JournalEntries {
    Table,
    Id,
    At,
    Kind,
    TenderId,
    Reference,
    Memo,
}

#[derive(DeriveIden)]
enum Postings {
    Table,
    Id,
    EntryId,
    Account,
    AmountFen,
    Currency,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JournalEntries::Table)
                    .col(string_len(JournalEntries::Id, 64).primary_key())
                    .col(timestamp_with_time_zone(JournalEntries::At))
                    .col(string_len(JournalEntries::Kind, 32))
                    .col(string_len_null(JournalEntries::TenderId, 64))
                    .col(string_len(JournalEntries::Reference, 128))
                    .col(text(JournalEntries::Memo))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Postings::Table)
                    .col(big_pk_auto(Postings::Id))
                    .col(string_len(Postings::EntryId, 64))
                    .col(string_len(Postings::Account, 128))
                    .col(big_integer(Postings::AmountFen))
                    .col(string_len(Postings::Currency, 3))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_postings_account")
                    .table(Postings::Table)
                    .col(Postings::Account)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_postings_entry")
                    .table(Postings::Table)
                    .col(Postings::EntryId)
                    .to_owned(),
            )
            .await
    }
}
