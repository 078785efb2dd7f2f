use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Clarifications and amendments (澄清或者修改) of the tender documents, published to everyone and
/// mailed to everyone who downloaded the documents. One that affects bids moves the deadline out to
/// at least 15 days after it (实施条例 Art 21); both deadlines are kept.
#[derive(DeriveIden)]
enum TenderAmendments {
    Table,
    Id,
    TenderId,
    Seq,
    Title,
    Body,
    AffectsBids,
    /// JSON array of document ids published with it.
    DocumentIds,
    /// The question it answers, when it is an answer.
    QuestionId,
    DeadlineBefore,
    DeadlineAfter,
    PublishedBy,
    PublishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TenderAmendments::Table)
                    .col(string_len(TenderAmendments::Id, 64).primary_key())
                    .col(string_len(TenderAmendments::TenderId, 64))
                    .col(integer(TenderAmendments::Seq))
                    .col(text(TenderAmendments::Title))
                    .col(text(TenderAmendments::Body))
                    .col(boolean(TenderAmendments::AffectsBids))
                    .col(text(TenderAmendments::DocumentIds))
                    .col(string_len_null(TenderAmendments::QuestionId, 64))
                    .col(timestamp_with_time_zone(TenderAmendments::DeadlineBefore))
                    .col(timestamp_with_time_zone(TenderAmendments::DeadlineAfter))
                    .col(string_len(TenderAmendments::PublishedBy, 64))
                    .col(timestamp_with_time_zone(TenderAmendments::PublishedAt))
                    .to_owned(),
            )
            .await?;
        // Numbered per tender, once: two amendments published at the same moment cannot share a
        // number.
        manager
            .create_index(
                Index::create()
                    .name("idx_tender_amendments_seq")
                    .table(TenderAmendments::Table)
                    .col(TenderAmendments::TenderId)
                    .col(TenderAmendments::Seq)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
