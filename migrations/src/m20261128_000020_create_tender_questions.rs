use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261128_000010_create_tenders::Tenders;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Questions about the tender documents (澄清请求). Who asked is kept for the record and never shown
/// to the tenderer or other bidders; the question and its answer are published to everyone
/// (电子招标投标办法 Art 22).
#[derive(DeriveIden)]
enum TenderQuestions {
    Table,
    Id,
    TenderId,
    AskedByAccount,
    AskedByOrg,
    Question,
    AskedAt,
    Answer,
    AnsweredBy,
    AnsweredAt,
}

#[derive(DeriveIden)]
enum Added {
    /// When the question period ended (set by its chronograph job, once).
    QuestionsClosedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TenderQuestions::Table)
                    .col(string_len(TenderQuestions::Id, 64).primary_key())
                    .col(string_len(TenderQuestions::TenderId, 64))
                    .col(string_len(TenderQuestions::AskedByAccount, 64))
                    .col(string_len_null(TenderQuestions::AskedByOrg, 64))
                    .col(text(TenderQuestions::Question))
                    .col(timestamp_with_time_zone(TenderQuestions::AskedAt))
                    .col(text_null(TenderQuestions::Answer))
                    .col(string_len_null(TenderQuestions::AnsweredBy, 64))
                    .col(timestamp_with_time_zone_null(TenderQuestions::AnsweredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tender_questions_tender")
                    .table(TenderQuestions::Table)
                    .col(TenderQuestions::TenderId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenders::Table)
                    .add_column(timestamp_with_time_zone_null(Added::QuestionsClosedAt))
                    .to_owned(),
            )
            .await
    }
}
