use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261128_000001_create_organizations::Organizations;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Bidders' Ed25519 signing keys (docs/spec/envelope.md "Keys"): registered and revoked, never deleted, so
/// a bid signed before a revocation can still be checked at the opening.
#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    /// Lowercase hex SHA-256 of the raw public key.
    KeyId,
    OrganizationId,
    PublicKey,
    CreatedAt,
    CreatedBy,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(string_len(SigningKeys::KeyId, 64).primary_key())
                    .col(string_len(SigningKeys::OrganizationId, 64))
                    .col(text(SigningKeys::PublicKey))
                    .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                    .col(string_len(SigningKeys::CreatedBy, 64))
                    .col(timestamp_with_time_zone_null(SigningKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_signing_keys_organization")
                            .from(SigningKeys::Table, SigningKeys::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_signing_keys_organization")
                    .table(SigningKeys::Table)
                    .col(SigningKeys::OrganizationId)
                    .to_owned(),
            )
            .await
    }
}
