use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EvaluationReportSignatures {
    Table,
    TenderId,
    LotId,
    ExpertId,
    ReportSha256,
    Dissent,
    Signature,
    KeyId,
    PublicKey,
    SignedAt,
}

#[derive(DeriveIden)]
enum EvaluationReports {
    Table,
    TenderId,
    LotId,
    ReportSha256,
    Record,
    SignedAt,
}

/// The evaluation report (docs/spec/evaluation.md "The report"): each member's signature over the
/// report's digest, with its dissent if any, and, once every member has signed, the record the
/// platform signs over the report and those signatures. Written once.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EvaluationReportSignatures::Table)
                    .col(string_len(EvaluationReportSignatures::TenderId, 64))
                    .col(string_len(EvaluationReportSignatures::LotId, 64))
                    .col(string_len(EvaluationReportSignatures::ExpertId, 64))
                    .col(string_len(EvaluationReportSignatures::ReportSha256, 64))
                    .col(text_null(EvaluationReportSignatures::Dissent))
                    .col(text(EvaluationReportSignatures::Signature))
                    .col(string_len(EvaluationReportSignatures::KeyId, 64))
                    .col(text(EvaluationReportSignatures::PublicKey))
                    .col(timestamp_with_time_zone(
                        EvaluationReportSignatures::SignedAt,
                    ))
                    .primary_key(
                        Index::create()
                            .col(EvaluationReportSignatures::TenderId)
                            .col(EvaluationReportSignatures::LotId)
                            .col(EvaluationReportSignatures::ExpertId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EvaluationReports::Table)
                    .col(string_len(EvaluationReports::TenderId, 64))
                    .col(string_len(EvaluationReports::LotId, 64))
                    .col(string_len(EvaluationReports::ReportSha256, 64))
                    .col(text(EvaluationReports::Record))
                    .col(timestamp_with_time_zone(EvaluationReports::SignedAt))
                    .primary_key(
                        Index::create()
                            .col(EvaluationReports::TenderId)
                            .col(EvaluationReports::LotId),
                    )
                    .to_owned(),
            )
            .await
    }
}
