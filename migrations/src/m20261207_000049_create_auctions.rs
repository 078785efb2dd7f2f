use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Auctions {
    Table,
    TenderId,
    LotId,
    Status,
    Increment,
    LeaderPseudonym,
    LeaderAmountFen,
    LeaderSeq,
    LeaderAt,
    EndsAt,
    LastSeq,
    ListingBidders,
    Result,
    ReserveFen,
    ClosedAt,
    Record,
    Confirmation,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuctionBidders {
    Table,
    TenderId,
    LotId,
    OrganizationId,
    Pseudonym,
    RegistrationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuctionBids {
    Table,
    TenderId,
    LotId,
    Seq,
    Pseudonym,
    OrganizationId,
    AccountId,
    AmountFen,
    AcceptedAt,
}

/// Live auctions (docs/auctions.md): one row per auction lot holding the state every bid is
/// decided against under its lock; the bidders' pseudonyms (竞买号), each bound to the registration
/// that made the bidder eligible; and every accepted bid, numbered in acceptance order.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Auctions::Table)
                    .col(string_len(Auctions::TenderId, 64))
                    .col(string_len(Auctions::LotId, 64))
                    .col(string_len(Auctions::Status, 16))
                    .col(string_len(Auctions::Increment, 32))
                    .col(string_len_null(Auctions::LeaderPseudonym, 16))
                    .col(big_integer_null(Auctions::LeaderAmountFen))
                    .col(big_integer_null(Auctions::LeaderSeq))
                    .col(timestamp_with_time_zone_null(Auctions::LeaderAt))
                    .col(timestamp_with_time_zone_null(Auctions::EndsAt))
                    .col(big_integer(Auctions::LastSeq))
                    .col(text(Auctions::ListingBidders))
                    .col(string_len_null(Auctions::Result, 32))
                    .col(big_integer_null(Auctions::ReserveFen))
                    .col(timestamp_with_time_zone_null(Auctions::ClosedAt))
                    .col(text_null(Auctions::Record))
                    .col(text_null(Auctions::Confirmation))
                    .col(timestamp_with_time_zone(Auctions::UpdatedAt))
                    .primary_key(Index::create().col(Auctions::TenderId).col(Auctions::LotId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuctionBidders::Table)
                    .col(string_len(AuctionBidders::TenderId, 64))
                    .col(string_len(AuctionBidders::LotId, 64))
                    .col(string_len(AuctionBidders::OrganizationId, 64))
                    .col(string_len(AuctionBidders::Pseudonym, 16))
                    .col(string_len(AuctionBidders::RegistrationId, 64))
                    .col(timestamp_with_time_zone(AuctionBidders::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(AuctionBidders::TenderId)
                            .col(AuctionBidders::LotId)
                            .col(AuctionBidders::OrganizationId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_auction_bidders_pseudonym")
                    .table(AuctionBidders::Table)
                    .col(AuctionBidders::TenderId)
                    .col(AuctionBidders::LotId)
                    .col(AuctionBidders::Pseudonym)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuctionBids::Table)
                    .col(string_len(AuctionBids::TenderId, 64))
                    .col(string_len(AuctionBids::LotId, 64))
                    .col(big_integer(AuctionBids::Seq))
                    .col(string_len(AuctionBids::Pseudonym, 16))
                    .col(string_len(AuctionBids::OrganizationId, 64))
                    .col(string_len(AuctionBids::AccountId, 64))
                    .col(big_integer(AuctionBids::AmountFen))
                    .col(timestamp_with_time_zone(AuctionBids::AcceptedAt))
                    .primary_key(
                        Index::create()
                            .col(AuctionBids::TenderId)
                            .col(AuctionBids::LotId)
                            .col(AuctionBids::Seq),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuctionBids::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuctionBidders::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Auctions::Table).to_owned())
            .await?;
        Ok(())
    }
}
