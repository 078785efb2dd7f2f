use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum QuoteRounds {
    Table,
    Id,
    TenderId,
    LotId,
    Number,
    Bidders,
    Deadline,
    KeyId,
    PublicKey,
    WrappedSecret,
    CalledBy,
    CalledAt,
    Record,
    OpenedAt,
}

#[derive(DeriveIden)]
enum RoundQuotes {
    Table,
    RoundId,
    OrganizationId,
    EnvelopeSha256,
    Size,
    SignerKeyId,
    ReceivedAt,
    Seq,
    Receipt,
}

/// Final-quote rounds of a negotiation or inquiry (最后报价): each with its own opening key pair
/// (the secret wrapped under the master key until the round's deadline), the bidders still in,
/// and the signed record once opened; and each bidder's current sealed quote with its receipt.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QuoteRounds::Table)
                    .col(string_len(QuoteRounds::Id, 64).primary_key())
                    .col(string_len(QuoteRounds::TenderId, 64))
                    .col(string_len(QuoteRounds::LotId, 64))
                    .col(integer(QuoteRounds::Number))
                    .col(text(QuoteRounds::Bidders))
                    .col(timestamp_with_time_zone(QuoteRounds::Deadline))
                    .col(string_len(QuoteRounds::KeyId, 128))
                    .col(text(QuoteRounds::PublicKey))
                    .col(text(QuoteRounds::WrappedSecret))
                    .col(string_len(QuoteRounds::CalledBy, 64))
                    .col(timestamp_with_time_zone(QuoteRounds::CalledAt))
                    .col(text_null(QuoteRounds::Record))
                    .col(timestamp_with_time_zone_null(QuoteRounds::OpenedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_quote_rounds_lot_number")
                    .table(QuoteRounds::Table)
                    .col(QuoteRounds::TenderId)
                    .col(QuoteRounds::LotId)
                    .col(QuoteRounds::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoundQuotes::Table)
                    .col(string_len(RoundQuotes::RoundId, 64))
                    .col(string_len(RoundQuotes::OrganizationId, 64))
                    .col(string_len(RoundQuotes::EnvelopeSha256, 64))
                    .col(big_integer(RoundQuotes::Size))
                    .col(string_len(RoundQuotes::SignerKeyId, 128))
                    .col(timestamp_with_time_zone(RoundQuotes::ReceivedAt))
                    .col(big_integer(RoundQuotes::Seq))
                    .col(text(RoundQuotes::Receipt))
                    .primary_key(
                        Index::create()
                            .col(RoundQuotes::RoundId)
                            .col(RoundQuotes::OrganizationId),
                    )
                    .to_owned(),
            )
            .await
    }
}
