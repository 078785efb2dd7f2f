use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every receipted envelope and withdrawal (docs/spec/receipts-and-records.md "Receipt"): a bidder's submissions to a
/// lot are numbered 1, 2, …; one at most is `current`, the others `replaced` or `withdrawn`. The
/// signed receipt is kept as sent.
#[derive(DeriveIden)]
enum Bids {
    Table,
    Id,
    TenderId,
    LotId,
    OrganizationId,
    Seq,
    EnvelopeSha256,
    Size,
    SignerKeyId,
    ReceivedAt,
    Status,
    WithdrawnAt,
    Receipt,
    WithdrawalReceipt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Bids::Table)
                    .col(string_len(Bids::Id, 64).primary_key())
                    .col(string_len(Bids::TenderId, 64))
                    .col(string_len(Bids::LotId, 64))
                    .col(string_len(Bids::OrganizationId, 64))
                    .col(big_integer(Bids::Seq))
                    .col(string_len(Bids::EnvelopeSha256, 64))
                    .col(big_integer(Bids::Size))
                    .col(string_len(Bids::SignerKeyId, 64))
                    .col(timestamp_with_time_zone(Bids::ReceivedAt))
                    .col(string_len(Bids::Status, 16))
                    .col(timestamp_with_time_zone_null(Bids::WithdrawnAt))
                    .col(text(Bids::Receipt))
                    .col(text_null(Bids::WithdrawalReceipt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bids_bidder_seq")
                    .table(Bids::Table)
                    .col(Bids::TenderId)
                    .col(Bids::LotId)
                    .col(Bids::OrganizationId)
                    .col(Bids::Seq)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
