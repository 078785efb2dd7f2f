use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Which payer account paid which deposit account, once per pair: the shared-payer check
/// (实施条例 Art 40) reads a handful of rows here instead of every notification a payer ever sent.
#[derive(DeriveIden)]
enum DepositPayers {
    Table,
    PayerAccount,
    AccountNo,
    TenderId,
    OrganizationId,
    FirstPaidAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DepositPayers::Table)
                    .col(string_len(DepositPayers::PayerAccount, 64))
                    .col(string_len(DepositPayers::AccountNo, 64))
                    .col(string_len(DepositPayers::TenderId, 64))
                    .col(string_len(DepositPayers::OrganizationId, 64))
                    .col(timestamp_with_time_zone(DepositPayers::FirstPaidAt))
                    .primary_key(
                        Index::create()
                            .col(DepositPayers::PayerAccount)
                            .col(DepositPayers::AccountNo),
                    )
                    .to_owned(),
            )
            .await?;
        // The pairs already paid.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO deposit_payers \
                 (payer_account, account_no, tender_id, organization_id, first_paid_at) \
                 SELECT n.payer_account, n.account_no, v.tender_id, v.organization_id, \
                 MIN(n.received_at) \
                 FROM bank_notifications n JOIN virtual_accounts v ON v.account_no = n.account_no \
                 WHERE v.kind = 'deposit' AND n.outcome = 'credited' \
                 GROUP BY n.payer_account, n.account_no, v.tender_id, v.organization_id",
            )
            .await?;
        Ok(())
    }
}
