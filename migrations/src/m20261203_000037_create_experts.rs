use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Accounts {
    Table,
    ExpertId,
}

#[derive(DeriveIden)]
enum Experts {
    Table,
    Id,
    AccountId,
    Name,
    Email,
    Region,
    EmployerCreditCode,
    Title,
    Years,
    Status,
    SuspendedReason,
    SuspendedUntil,
    SigningKeyId,
    SigningPublicKey,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ExpertSpecialties {
    Table,
    ExpertId,
    Specialty,
}

#[derive(DeriveIden)]
enum ExpertUnavailable {
    Table,
    ExpertId,
    Day,
}

#[derive(DeriveIden)]
enum ExpertRelations {
    Table,
    Id,
    ExpertId,
    Kind,
    CreditCode,
    EndedOn,
}

/// The expert pool (评标专家库): experts are accounts (`accounts.expert_id`), with their specialties
/// (one row each, so a draw finds `A01` and everything within it by an index), the days they cannot
/// sit and their declared relationships (former employers with the day they left, relatives'
/// employers), which the draw's avoidance rules read. An expert's Ed25519 public key (its id is the
/// key's SHA-256, as for bidders' keys) verifies the scores it signs.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Experts::Table)
                    .col(string_len(Experts::Id, 64).primary_key())
                    .col(string_len(Experts::AccountId, 64).unique_key())
                    .col(string_len(Experts::Name, 200))
                    .col(string_len(Experts::Email, 254).unique_key())
                    .col(string_len(Experts::Region, 32))
                    .col(string_len(Experts::EmployerCreditCode, 18))
                    .col(string_len(Experts::Title, 100))
                    .col(integer(Experts::Years))
                    .col(string_len(Experts::Status, 16))
                    .col(string_len_null(Experts::SuspendedReason, 500))
                    .col(date_null(Experts::SuspendedUntil))
                    .col(string_len_null(Experts::SigningKeyId, 64))
                    .col(string_len_null(Experts::SigningPublicKey, 64))
                    .col(timestamp_with_time_zone(Experts::CreatedAt))
                    .col(timestamp_with_time_zone(Experts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExpertSpecialties::Table)
                    .col(string_len(ExpertSpecialties::ExpertId, 64))
                    .col(string_len(ExpertSpecialties::Specialty, 32))
                    .primary_key(
                        Index::create()
                            .col(ExpertSpecialties::ExpertId)
                            .col(ExpertSpecialties::Specialty),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_expert_specialties_specialty")
                    .table(ExpertSpecialties::Table)
                    .col(ExpertSpecialties::Specialty)
                    .col(ExpertSpecialties::ExpertId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExpertUnavailable::Table)
                    .col(string_len(ExpertUnavailable::ExpertId, 64))
                    .col(date(ExpertUnavailable::Day))
                    .primary_key(
                        Index::create()
                            .col(ExpertUnavailable::ExpertId)
                            .col(ExpertUnavailable::Day),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ExpertRelations::Table)
                    .col(
                        big_integer(ExpertRelations::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(string_len(ExpertRelations::ExpertId, 64))
                    .col(string_len(ExpertRelations::Kind, 32))
                    .col(string_len(ExpertRelations::CreditCode, 18))
                    .col(date_null(ExpertRelations::EndedOn))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_expert_relations_expert")
                    .table(ExpertRelations::Table)
                    .col(ExpertRelations::ExpertId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(string_len_null(Accounts::ExpertId, 64))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
