use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Electronic guarantees (电子保函) in place of a cash deposit where the procedure allows it
/// (government procurement, 政府采购法实施条例 Art 33): issuers' keys registered by operators, and
/// each accepted guarantee with its signed document, kept as presented.
#[derive(DeriveIden)]
enum GuaranteeIssuers {
    Table,
    Id,
    Name,
    PublicKey,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Guarantees {
    Table,
    Id,
    RegistrationId,
    IssuerId,
    GuaranteeNo,
    AmountFen,
    ValidUntil,
    Document,
    Signature,
    AcceptedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GuaranteeIssuers::Table)
                    .col(string_len(GuaranteeIssuers::Id, 64).primary_key())
                    .col(text(GuaranteeIssuers::Name))
                    .col(string_len(GuaranteeIssuers::PublicKey, 64))
                    .col(timestamp_with_time_zone(GuaranteeIssuers::CreatedAt))
                    .col(timestamp_with_time_zone_null(GuaranteeIssuers::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Guarantees::Table)
                    .col(string_len(Guarantees::Id, 64).primary_key())
                    .col(string_len(Guarantees::RegistrationId, 64).unique_key())
                    .col(string_len(Guarantees::IssuerId, 64))
                    .col(string_len(Guarantees::GuaranteeNo, 128))
                    .col(big_integer(Guarantees::AmountFen))
                    .col(timestamp_with_time_zone(Guarantees::ValidUntil))
                    .col(text(Guarantees::Document))
                    .col(string_len(Guarantees::Signature, 128))
                    .col(timestamp_with_time_zone(Guarantees::AcceptedAt))
                    .to_owned(),
            )
            .await
    }
}
