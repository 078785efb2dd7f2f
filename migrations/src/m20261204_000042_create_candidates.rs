use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LotCandidates {
    Table,
    TenderId,
    LotId,
    Record,
    PublishedAt,
    PublicityEndsAt,
}

#[derive(DeriveIden)]
enum Objections {
    Table,
    Id,
    TenderId,
    LotId,
    OrganizationId,
    AccountId,
    Body,
    RaisedAt,
    AnswerDue,
    Answer,
    AnsweredBy,
    AnsweredAt,
    OverdueAt,
}

/// The candidates' publicity (中标候选人公示, 实施条例 Art 54): the signed list published once
/// per lot with the end of its period, and the bidders' objections with the answer due and the
/// answer.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LotCandidates::Table)
                    .col(string_len(LotCandidates::TenderId, 64))
                    .col(string_len(LotCandidates::LotId, 64))
                    .col(text(LotCandidates::Record))
                    .col(timestamp_with_time_zone(LotCandidates::PublishedAt))
                    .col(timestamp_with_time_zone(LotCandidates::PublicityEndsAt))
                    .primary_key(
                        Index::create()
                            .col(LotCandidates::TenderId)
                            .col(LotCandidates::LotId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Objections::Table)
                    .col(string_len(Objections::Id, 64).primary_key())
                    .col(string_len(Objections::TenderId, 64))
                    .col(string_len(Objections::LotId, 64))
                    .col(string_len(Objections::OrganizationId, 64))
                    .col(string_len(Objections::AccountId, 64))
                    .col(text(Objections::Body))
                    .col(timestamp_with_time_zone(Objections::RaisedAt))
                    .col(timestamp_with_time_zone(Objections::AnswerDue))
                    .col(text_null(Objections::Answer))
                    .col(string_len_null(Objections::AnsweredBy, 64))
                    .col(timestamp_with_time_zone_null(Objections::AnsweredAt))
                    .col(timestamp_with_time_zone_null(Objections::OverdueAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_objections_lot")
                    .table(Objections::Table)
                    .col(Objections::TenderId)
                    .col(Objections::LotId)
                    .to_owned(),
            )
            .await
    }
}
