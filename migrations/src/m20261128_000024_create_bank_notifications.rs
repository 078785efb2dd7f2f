use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every bank notification accepted, once per `bank_txn_id` (the primary key makes a repeated
/// notification a no-op however many arrive at once), and flags raised by payments.
#[derive(DeriveIden)]
enum BankNotifications {
    Table,
    BankTxnId,
    BodySha256,
    AccountNo,
    AmountFen,
    Currency,
    PaidAt,
    PayerName,
    PayerAccount,
    Outcome,
    EntryId,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum DepositFlags {
    Table,
    Id,
    TenderId,
    LotId,
    Kind,
    AccountNo,
    OrganizationId,
    PayerAccount,
    Detail,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BankNotifications::Table)
                    .col(string_len(BankNotifications::BankTxnId, 64).primary_key())
                    .col(string_len(BankNotifications::BodySha256, 64))
                    .col(string_len(BankNotifications::AccountNo, 64))
                    .col(big_integer(BankNotifications::AmountFen))
                    .col(string_len(BankNotifications::Currency, 3))
                    .col(timestamp_with_time_zone(BankNotifications::PaidAt))
                    .col(text(BankNotifications::PayerName))
                    .col(string_len(BankNotifications::PayerAccount, 64))
                    .col(string_len(BankNotifications::Outcome, 16))
                    .col(string_len(BankNotifications::EntryId, 64))
                    .col(timestamp_with_time_zone(BankNotifications::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_bank_notifications_account")
                    .table(BankNotifications::Table)
                    .col(BankNotifications::AccountNo)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DepositFlags::Table)
                    .col(string_len(DepositFlags::Id, 64).primary_key())
                    .col(string_len(DepositFlags::TenderId, 64))
                    .col(string_len(DepositFlags::LotId, 64))
                    .col(string_len(DepositFlags::Kind, 32))
                    .col(string_len(DepositFlags::AccountNo, 32))
                    .col(string_len(DepositFlags::OrganizationId, 64))
                    .col(string_len(DepositFlags::PayerAccount, 64))
                    .col(text(DepositFlags::Detail))
                    .col(timestamp_with_time_zone(DepositFlags::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One flag of a kind per virtual account and payer account.
        manager
            .create_index(
                Index::create()
                    .name("idx_deposit_flags_once")
                    .table(DepositFlags::Table)
                    .col(DepositFlags::Kind)
                    .col(DepositFlags::AccountNo)
                    .col(DepositFlags::PayerAccount)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
