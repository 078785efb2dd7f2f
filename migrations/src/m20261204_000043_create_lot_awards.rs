use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LotAwards {
    Table,
    TenderId,
    LotId,
    WinnerOrgId,
    RegistrationId,
    Record,
    AwardedAt,
    ContractDue,
    ContractRecord,
    ContractAt,
    RemindedAt,
}

/// The award of a lot and its contract (docs/spec/evaluation.md "Award and contract"): the
/// award notice the platform signs, the contract recorded against it within 30 days, and when the
/// chronograph reminded the parties of it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LotAwards::Table)
                    .col(string_len(LotAwards::TenderId, 64))
                    .col(string_len(LotAwards::LotId, 64))
                    .col(string_len(LotAwards::WinnerOrgId, 64))
                    .col(string_len(LotAwards::RegistrationId, 64))
                    .col(text(LotAwards::Record))
                    .col(timestamp_with_time_zone(LotAwards::AwardedAt))
                    .col(timestamp_with_time_zone(LotAwards::ContractDue))
                    .col(text_null(LotAwards::ContractRecord))
                    .col(timestamp_with_time_zone_null(LotAwards::ContractAt))
                    .col(timestamp_with_time_zone_null(LotAwards::RemindedAt))
                    .primary_key(
                        Index::create()
                            .col(LotAwards::TenderId)
                            .col(LotAwards::LotId),
                    )
                    .to_owned(),
            )
            .await
    }
}
