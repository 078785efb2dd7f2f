use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tender documents (招标文件, drawings, bills of quantities): the bytes live in the document
/// store under their SHA-256; this is their record. Never deleted.
#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    TenderId,
    Title,
    Filename,
    ContentType,
    Size,
    Sha256,
    UploadedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(string_len(Documents::Id, 64).primary_key())
                    .col(string_len(Documents::TenderId, 64))
                    .col(text(Documents::Title))
                    .col(text(Documents::Filename))
                    .col(string_len(Documents::ContentType, 200))
                    .col(big_integer(Documents::Size))
                    .col(string_len(Documents::Sha256, 64))
                    .col(string_len(Documents::UploadedBy, 64))
                    .col(timestamp_with_time_zone(Documents::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_documents_tender")
                    .table(Documents::Table)
                    .col(Documents::TenderId)
                    .to_owned(),
            )
            .await
    }
}
