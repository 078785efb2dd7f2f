use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A bidder's registration for a lot (报名), which a bid requires; it carries the deposit due and
/// the virtual account it is paid into. Who registered is secret until the bid deadline
/// (电子招标投标办法 Art 21).
#[derive(DeriveIden)]
enum Registrations {
    Table,
    Id,
    TenderId,
    LotId,
    OrganizationId,
    AccountId,
    AccountNo,
    DepositDueFen,
    Currency,
    Status,
    CreatedAt,
    WithdrawnAt,
}

/// Virtual sub-accounts (虚拟子账号): one per registration for its deposit, one per organization and
/// tender for the document fee. The number is random with a check digit.
#[derive(DeriveIden)]
enum VirtualAccounts {
    Table,
    AccountNo,
    Kind,
    TenderId,
    LotId,
    OrganizationId,
    RegistrationId,
    AmountDueFen,
    Currency,
    Status,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Registrations::Table)
                    .col(string_len(Registrations::Id, 64).primary_key())
                    .col(string_len(Registrations::TenderId, 64))
                    .col(string_len(Registrations::LotId, 64))
                    .col(string_len(Registrations::OrganizationId, 64))
                    .col(string_len(Registrations::AccountId, 64))
                    .col(string_len(Registrations::AccountNo, 32))
                    .col(big_integer(Registrations::DepositDueFen))
                    .col(string_len(Registrations::Currency, 3))
                    .col(string_len(Registrations::Status, 16))
                    .col(timestamp_with_time_zone(Registrations::CreatedAt))
                    .col(timestamp_with_time_zone_null(Registrations::WithdrawnAt))
                    .to_owned(),
            )
            .await?;
        // One registration per organization and lot, whatever the race.
        manager
            .create_index(
                Index::create()
                    .name("idx_registrations_org_lot")
                    .table(Registrations::Table)
                    .col(Registrations::TenderId)
                    .col(Registrations::LotId)
                    .col(Registrations::OrganizationId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VirtualAccounts::Table)
                    .col(string_len(VirtualAccounts::AccountNo, 32).primary_key())
                    .col(string_len(VirtualAccounts::Kind, 16))
                    .col(string_len(VirtualAccounts::TenderId, 64))
                    .col(string_len(VirtualAccounts::LotId, 64))
                    .col(string_len(VirtualAccounts::OrganizationId, 64))
                    .col(string_len_null(VirtualAccounts::RegistrationId, 64))
                    .col(big_integer(VirtualAccounts::AmountDueFen))
                    .col(string_len(VirtualAccounts::Currency, 3))
                    .col(string_len(VirtualAccounts::Status, 16))
                    .col(timestamp_with_time_zone(VirtualAccounts::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One fee account per organization and tender (lot_id empty), one deposit account per
        // registration.
        manager
            .create_index(
                Index::create()
                    .name("idx_virtual_accounts_owner")
                    .table(VirtualAccounts::Table)
                    .col(VirtualAccounts::TenderId)
                    .col(VirtualAccounts::LotId)
                    .col(VirtualAccounts::OrganizationId)
                    .col(VirtualAccounts::Kind)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
