use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clarifications {
    Table,
    Id,
    TenderId,
    LotId,
    BidderId,
    ExpertId,
    Question,
    AbnormallyLow,
    RaisedAt,
    AnswerDue,
    Answer,
    AnsweredBy,
    AnsweredAt,
    LapsedAt,
}

/// The committee's written clarification requests to a bidder (澄清, 87号令 Art 51, 60), with
/// the deadline, the bidder's answer, and when the chronograph found one unanswered.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clarifications::Table)
                    .col(string_len(Clarifications::Id, 64).primary_key())
                    .col(string_len(Clarifications::TenderId, 64))
                    .col(string_len(Clarifications::LotId, 64))
                    .col(string_len(Clarifications::BidderId, 64))
                    .col(string_len(Clarifications::ExpertId, 64))
                    .col(text(Clarifications::Question))
                    .col(boolean(Clarifications::AbnormallyLow))
                    .col(timestamp_with_time_zone(Clarifications::RaisedAt))
                    .col(timestamp_with_time_zone(Clarifications::AnswerDue))
                    .col(text_null(Clarifications::Answer))
                    .col(string_len_null(Clarifications::AnsweredBy, 64))
                    .col(timestamp_with_time_zone_null(Clarifications::AnsweredAt))
                    .col(timestamp_with_time_zone_null(Clarifications::LapsedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_clarifications_lot")
                    .table(Clarifications::Table)
                    .col(Clarifications::TenderId)
                    .col(Clarifications::LotId)
                    .to_owned(),
            )
            .await
    }
}
