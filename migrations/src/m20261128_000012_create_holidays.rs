use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The holiday calendar for working-day periods (工作日): public holidays and make-up working days
/// (调休上班), edited by operators.
#[derive(DeriveIden)]
enum CalendarDays {
    Table,
    Day,
    /// `holiday` or `workday`.
    Kind,
    Name,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarDays::Table)
                    .col(date(CalendarDays::Day).primary_key())
                    .col(string_len(CalendarDays::Kind, 16))
                    .col(text(CalendarDays::Name))
                    .col(timestamp_with_time_zone(CalendarDays::UpdatedAt))
                    .to_owned(),
            )
            .await
    }
}
