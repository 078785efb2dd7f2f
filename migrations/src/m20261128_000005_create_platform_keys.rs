use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The platform's own keys, private parts wrapped under the master key, so that every node
/// shares them. `purpose` is unique: the first node to start creates the key, the others load it.
#[derive(DeriveIden)]
enum PlatformKeys {
    Table,
    KeyId,
    Purpose,
    Algorithm,
    PublicKey,
    WrappedPrivateKey,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlatformKeys::Table)
                    .col(string_len(PlatformKeys::KeyId, 64).primary_key())
                    .col(string_len_uniq(PlatformKeys::Purpose, 32))
                    .col(string_len(PlatformKeys::Algorithm, 32))
                    .col(text(PlatformKeys::PublicKey))
                    .col(text(PlatformKeys::WrappedPrivateKey))
                    .col(timestamp_with_time_zone(PlatformKeys::CreatedAt))
                    .to_owned(),
            )
            .await
    }
}
