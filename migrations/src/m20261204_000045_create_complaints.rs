use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LotCandidates {
    Table,
    ObjectionsCloseAt,
}

#[derive(DeriveIden)]
enum Complaints {
    Table,
    Id,
    TenderId,
    LotId,
    ObjectionId,
    OrganizationId,
    AccountId,
    Body,
    FiledAt,
    AcceptDue,
    Suspends,
    AcceptedAt,
    RefusedReason,
    DecideDue,
    DecidedAt,
    Upheld,
    Decision,
    DecidedBy,
    OverdueAt,
}

/// Complaints (投诉) to the supervisors after an objection (实施条例 Art 60–61; 政府采购法
/// Art 55–57), and when objections to a published result close (a government procurement
/// result takes challenges for 7 working days after its notice ends).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LotCandidates::Table)
                    .add_column(timestamp_with_time_zone_null(
                        LotCandidates::ObjectionsCloseAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Complaints::Table)
                    .col(string_len(Complaints::Id, 64).primary_key())
                    .col(string_len(Complaints::TenderId, 64))
                    .col(string_len(Complaints::LotId, 64))
                    .col(string_len(Complaints::ObjectionId, 64).unique_key())
                    .col(string_len(Complaints::OrganizationId, 64))
                    .col(string_len(Complaints::AccountId, 64))
                    .col(text(Complaints::Body))
                    .col(timestamp_with_time_zone(Complaints::FiledAt))
                    .col(timestamp_with_time_zone(Complaints::AcceptDue))
                    .col(boolean(Complaints::Suspends))
                    .col(timestamp_with_time_zone_null(Complaints::AcceptedAt))
                    .col(text_null(Complaints::RefusedReason))
                    .col(timestamp_with_time_zone_null(Complaints::DecideDue))
                    .col(timestamp_with_time_zone_null(Complaints::DecidedAt))
                    .col(boolean_null(Complaints::Upheld))
                    .col(text_null(Complaints::Decision))
                    .col(string_len_null(Complaints::DecidedBy, 64))
                    .col(timestamp_with_time_zone_null(Complaints::OverdueAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_complaints_lot")
                    .table(Complaints::Table)
                    .col(Complaints::TenderId)
                    .col(Complaints::LotId)
                    .to_owned(),
            )
            .await
    }
}
