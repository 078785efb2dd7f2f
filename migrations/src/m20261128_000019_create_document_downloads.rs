use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Who downloaded which document when (电子招标投标办法 Art 21): secret until the bid deadline.
#[derive(DeriveIden)]
enum DocumentDownloads {
    Table,
    Id,
    TenderId,
    DocumentId,
    AccountId,
    OrganizationId,
    Ip,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DocumentDownloads::Table)
                    .col(big_pk_auto(DocumentDownloads::Id))
                    .col(string_len(DocumentDownloads::TenderId, 64))
                    .col(string_len(DocumentDownloads::DocumentId, 64))
                    .col(string_len(DocumentDownloads::AccountId, 64))
                    .col(string_len_null(DocumentDownloads::OrganizationId, 64))
                    .col(string_len_null(DocumentDownloads::Ip, 64))
                    .col(timestamp_with_time_zone(DocumentDownloads::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_document_downloads_tender")
                    .table(DocumentDownloads::Table)
                    .col(DocumentDownloads::TenderId)
                    .col(DocumentDownloads::OrganizationId)
                    .to_owned(),
            )
            .await
    }
}
