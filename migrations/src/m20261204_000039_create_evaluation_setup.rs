use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tenders {
    Table,
    Evaluation,
}

#[derive(DeriveIden)]
enum PriceKDraws {
    Table,
    TenderId,
    LotId,
    Commitment,
    SecretSealed,
    KRange,
    PublicInput,
    K,
    Record,
    CreatedAt,
    RevealedAt,
}

/// The evaluation set-up published with a tender (docs/spec/evaluation.md), and the K of the
/// mean-base price formula: committed per lot at publication (the secret sealed under the master
/// key), revealed at the opening with the public input and the value, in a record the platform
/// signs.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenders::Table)
                    .add_column(text_null(Tenders::Evaluation))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PriceKDraws::Table)
                    .col(string_len(PriceKDraws::TenderId, 64))
                    .col(string_len(PriceKDraws::LotId, 64))
                    .col(string_len(PriceKDraws::Commitment, 64))
                    .col(text(PriceKDraws::SecretSealed))
                    .col(text(PriceKDraws::KRange))
                    .col(string_len_null(PriceKDraws::PublicInput, 64))
                    .col(string_len_null(PriceKDraws::K, 32))
                    .col(text_null(PriceKDraws::Record))
                    .col(timestamp_with_time_zone(PriceKDraws::CreatedAt))
                    .col(timestamp_with_time_zone_null(PriceKDraws::RevealedAt))
                    .primary_key(
                        Index::create()
                            .col(PriceKDraws::TenderId)
                            .col(PriceKDraws::LotId),
                    )
                    .to_owned(),
            )
            .await
    }
}
