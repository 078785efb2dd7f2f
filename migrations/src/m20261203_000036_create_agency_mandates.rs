use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AgencyMandates {
    Table,
    Id,
    TendererOrgId,
    AgencyOrgId,
    GrantedBy,
    GrantedAt,
    RevokedBy,
    RevokedAt,
}

/// 委托代理: a tenderer's mandate to an agency to run its procurements, granted and revoked by the
/// tenderer. At most one current mandate per pair. Tenders that agencies already run for a
/// tenderer keep running: each such pair gets a mandate dated from its first tender.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AgencyMandates::Table)
                    .col(string_len(AgencyMandates::Id, 64).primary_key())
                    .col(string_len(AgencyMandates::TendererOrgId, 64))
                    .col(string_len(AgencyMandates::AgencyOrgId, 64))
                    .col(string_len(AgencyMandates::GrantedBy, 64))
                    .col(timestamp_with_time_zone(AgencyMandates::GrantedAt))
                    .col(string_len_null(AgencyMandates::RevokedBy, 64))
                    .col(timestamp_with_time_zone_null(AgencyMandates::RevokedAt))
                    .to_owned(),
            )
            .await?;
        // Partial: sea-query has no WHERE for indexes; both backends take this text.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_agency_mandates_current \
             ON agency_mandates (tenderer_org_id, agency_org_id) WHERE revoked_at IS NULL",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agency_mandates_agency")
                    .table(AgencyMandates::Table)
                    .col(AgencyMandates::AgencyOrgId)
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "INSERT INTO agency_mandates (id, tenderer_org_id, agency_org_id, granted_by, granted_at) \
             SELECT 'mdt_' || MIN(id), tenderer_org_id, agency_org_id, 'migration', MIN(created_at) \
             FROM tenders WHERE agency_org_id IS NOT NULL \
             GROUP BY tenderer_org_id, agency_org_id",
        )
        .await?;
        Ok(())
    }
}
