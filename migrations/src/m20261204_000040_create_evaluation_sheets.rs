use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EvaluationSheets {
    Table,
    TenderId,
    LotId,
    ExpertId,
    Phase,
    Body,
    Signature,
    KeyId,
    PublicKey,
    AccountId,
    SubmittedAt,
}

/// The committee's signed sheets (docs/spec/evaluation.md "The evaluation room"): one per member,
/// lot and phase (`review`, then `scores`), written once and never changed. The body is the
/// canonical JSON the expert signed; the key it verified under is kept beside it, so a key the
/// expert replaces later still checks the old sheets.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EvaluationSheets::Table)
                    .col(string_len(EvaluationSheets::TenderId, 64))
                    .col(string_len(EvaluationSheets::LotId, 64))
                    .col(string_len(EvaluationSheets::ExpertId, 64))
                    .col(string_len(EvaluationSheets::Phase, 16))
                    .col(text(EvaluationSheets::Body))
                    .col(text(EvaluationSheets::Signature))
                    .col(string_len(EvaluationSheets::KeyId, 64))
                    .col(text(EvaluationSheets::PublicKey))
                    .col(string_len(EvaluationSheets::AccountId, 64))
                    .col(timestamp_with_time_zone(EvaluationSheets::SubmittedAt))
                    .primary_key(
                        Index::create()
                            .col(EvaluationSheets::TenderId)
                            .col(EvaluationSheets::LotId)
                            .col(EvaluationSheets::ExpertId)
                            .col(EvaluationSheets::Phase),
                    )
                    .to_owned(),
            )
            .await
    }
}
