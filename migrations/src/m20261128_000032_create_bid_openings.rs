use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The opening (docs/spec/receipts-and-records.md "Opening record"): one signed record per lot, written once; each bid's
/// outcome and, for an opened bid, its decrypted archive in the document store. The minimum number
/// of bids is fixed at publication, with the rule then in force.
#[derive(DeriveIden)]
enum BidOpenings {
    Table,
    TenderId,
    LotId,
    Status,
    Record,
    OpenedAt,
}

#[derive(DeriveIden)]
enum Bids {
    Table,
    Outcome,
    OutcomeReason,
    PlaintextSha256,
}

#[derive(DeriveIden)]
enum Tenders {
    Table,
    MinBids,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BidOpenings::Table)
                    .col(string_len(BidOpenings::TenderId, 64))
                    .col(string_len(BidOpenings::LotId, 64))
                    .col(string_len(BidOpenings::Status, 16))
                    .col(text(BidOpenings::Record))
                    .col(timestamp_with_time_zone(BidOpenings::OpenedAt))
                    .primary_key(
                        Index::create()
                            .col(BidOpenings::TenderId)
                            .col(BidOpenings::LotId),
                    )
                    .to_owned(),
            )
            .await?;
        for column in [
            ColumnDef::new(Bids::Outcome)
                .string_len(16)
                .null()
                .to_owned(),
            ColumnDef::new(Bids::OutcomeReason).text().null().to_owned(),
            ColumnDef::new(Bids::PlaintextSha256)
                .string_len(64)
                .null()
                .to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Bids::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Tenders::Table)
                    .add_column(integer_null(Tenders::MinBids))
                    .to_owned(),
            )
            .await
    }
}
