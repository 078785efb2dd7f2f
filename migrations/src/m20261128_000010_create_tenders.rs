use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tenders (招标项目). Money in integer fen.
#[derive(DeriveIden)]
pub enum Tenders {
    Table,
    Id,
    /// The organization that created it (the tenderer, or the agency acting for one).
    OwnerOrgId,
    TendererOrgId,
    AgencyOrgId,
    Title,
    Kind,
    Procedure,
    AwardMethod,
    DocumentFeeFen,
    Currency,
    BidDeadline,
    BidValidityDays,
    /// JSON array of field names.
    OpeningFields,
    Accelerator,
    Status,
    PublishedAt,
    CancelledAt,
    CancelReason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenders::Table)
                    .col(string_len(Tenders::Id, 64).primary_key())
                    .col(string_len(Tenders::OwnerOrgId, 64))
                    .col(string_len(Tenders::TendererOrgId, 64))
                    .col(string_len_null(Tenders::AgencyOrgId, 64))
                    .col(text(Tenders::Title))
                    .col(string_len(Tenders::Kind, 32))
                    .col(string_len(Tenders::Procedure, 32))
                    .col(string_len(Tenders::AwardMethod, 32))
                    .col(big_integer(Tenders::DocumentFeeFen))
                    .col(string_len(Tenders::Currency, 3))
                    .col(timestamp_with_time_zone(Tenders::BidDeadline))
                    .col(integer(Tenders::BidValidityDays))
                    .col(text(Tenders::OpeningFields))
                    .col(integer(Tenders::Accelerator))
                    .col(string_len(Tenders::Status, 16))
                    .col(timestamp_with_time_zone_null(Tenders::PublishedAt))
                    .col(timestamp_with_time_zone_null(Tenders::CancelledAt))
                    .col(text_null(Tenders::CancelReason))
                    .col(string_len(Tenders::CreatedBy, 64))
                    .col(timestamp_with_time_zone(Tenders::CreatedAt))
                    .col(timestamp_with_time_zone(Tenders::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_tenders_published",
                vec![Tenders::PublishedAt, Tenders::Id],
            ),
            ("idx_tenders_owner", vec![Tenders::OwnerOrgId]),
            ("idx_tenders_tenderer", vec![Tenders::TendererOrgId]),
            (
                "idx_tenders_status_deadline",
                vec![Tenders::Status, Tenders::BidDeadline],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Tenders::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }
}
