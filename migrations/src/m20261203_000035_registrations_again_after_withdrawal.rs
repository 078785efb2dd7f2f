use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Registrations {
    Table,
    TenderId,
    LotId,
}

#[derive(DeriveIden)]
enum VirtualAccounts {
    Table,
    TenderId,
    LotId,
    OrganizationId,
    Kind,
}

/// A bidder that withdrew its registration may register for the lot again, with a new registration
/// and a new deposit account: one *active* registration per organization and lot, any number of
/// withdrawn ones. The deposit account follows its registration (by `registration_id`), so the
/// owner columns are unique for fee accounts only (one per organization and tender) and are
/// otherwise an index for reads by tender.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_registrations_org_lot")
                    .table(Registrations::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_virtual_accounts_owner")
                    .table(VirtualAccounts::Table)
                    .to_owned(),
            )
            .await?;
        // Partial indexes: sea-query has no WHERE for indexes; both backends take this text.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_registrations_active_org_lot \
             ON registrations (tender_id, lot_id, organization_id) WHERE status = 'active'",
        )
        .await?;
        // A lot's registrations of any status (the deposits view, settling a lot).
        manager
            .create_index(
                Index::create()
                    .name("idx_registrations_tender_lot")
                    .table(Registrations::Table)
                    .col(Registrations::TenderId)
                    .col(Registrations::LotId)
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_virtual_accounts_fee_owner \
             ON virtual_accounts (tender_id, organization_id) WHERE kind = 'fee'",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_virtual_accounts_owner_any")
                    .table(VirtualAccounts::Table)
                    .col(VirtualAccounts::TenderId)
                    .col(VirtualAccounts::LotId)
                    .col(VirtualAccounts::OrganizationId)
                    .col(VirtualAccounts::Kind)
                    .to_owned(),
            )
            .await
    }
}
