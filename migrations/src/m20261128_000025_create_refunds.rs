use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Refunds of deposits and fees: instructed to the bank through the gateway, pending until the bank
/// confirms, retried when it fails, never forgotten. `due_by` is the legal deadline (docs/spec/rules.md
/// "Money").
#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    AccountNo,
    TenderId,
    OrganizationId,
    Reason,
    PrincipalFen,
    InterestFen,
    Currency,
    PayeeAccount,
    DueBy,
    /// `pending` (booked, not yet sent), `instructed` (the bank has it), `confirmed`, `failed`.
    Status,
    BankRef,
    LastError,
    CreatedAt,
    InstructedAt,
    ConfirmedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Refunds::Table)
                    .col(string_len(Refunds::Id, 64).primary_key())
                    .col(string_len(Refunds::AccountNo, 32))
                    .col(string_len(Refunds::TenderId, 64))
                    .col(string_len(Refunds::OrganizationId, 64))
                    .col(string_len(Refunds::Reason, 32))
                    .col(big_integer(Refunds::PrincipalFen))
                    .col(big_integer(Refunds::InterestFen))
                    .col(string_len(Refunds::Currency, 3))
                    .col(string_len(Refunds::PayeeAccount, 64))
                    .col(timestamp_with_time_zone(Refunds::DueBy))
                    .col(string_len(Refunds::Status, 16))
                    .col(string_len_null(Refunds::BankRef, 128))
                    .col(text_null(Refunds::LastError))
                    .col(timestamp_with_time_zone(Refunds::CreatedAt))
                    .col(timestamp_with_time_zone_null(Refunds::InstructedAt))
                    .col(timestamp_with_time_zone_null(Refunds::ConfirmedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refunds_account")
                    .table(Refunds::Table)
                    .col(Refunds::AccountNo)
                    .to_owned(),
            )
            .await
    }
}
