use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One X25519 opening key pair per lot, made at publication (docs/spec/envelope.md "Keys"): the public
/// half is published with the lot, the private half kept only wrapped under the master key, and
/// the time it was first unwrapped (never before the deadline) recorded.
#[derive(DeriveIden)]
enum OpeningKeys {
    Table,
    TenderId,
    LotId,
    KeyId,
    PublicKey,
    WrappedSecret,
    CreatedAt,
    UnwrappedAt,
}

#[derive(DeriveIden)]
enum Lots {
    Table,
    OpeningPublicKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OpeningKeys::Table)
                    .col(string_len(OpeningKeys::TenderId, 64))
                    .col(string_len(OpeningKeys::LotId, 64))
                    .col(string_len(OpeningKeys::KeyId, 64))
                    .col(string_len(OpeningKeys::PublicKey, 64))
                    .col(text(OpeningKeys::WrappedSecret))
                    .col(timestamp_with_time_zone(OpeningKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(OpeningKeys::UnwrappedAt))
                    .primary_key(
                        Index::create()
                            .col(OpeningKeys::TenderId)
                            .col(OpeningKeys::LotId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Lots::Table)
                    .add_column(string_len_null(Lots::OpeningPublicKey, 64))
                    .to_owned(),
            )
            .await
    }
}
