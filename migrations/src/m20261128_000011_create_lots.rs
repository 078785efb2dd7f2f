use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261128_000010_create_tenders::Tenders;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Lots (标段/包) of a tender; the id is the tenderer's own, unique within the tender.
#[derive(DeriveIden)]
enum Lots {
    Table,
    TenderId,
    LotId,
    Position,
    Title,
    BudgetFen,
    DepositFen,
    PriceCeilingFen,
    Status,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Lots::Table)
                    .col(string_len(Lots::TenderId, 64))
                    .col(string_len(Lots::LotId, 64))
                    .col(integer(Lots::Position))
                    .col(text(Lots::Title))
                    .col(big_integer(Lots::BudgetFen))
                    .col(big_integer(Lots::DepositFen))
                    .col(big_integer_null(Lots::PriceCeilingFen))
                    .col(string_len(Lots::Status, 16))
                    .primary_key(Index::create().col(Lots::TenderId).col(Lots::LotId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_lots_tender")
                            .from(Lots::Table, Lots::TenderId)
                            .to(Tenders::Table, Tenders::Id),
                    )
                    .to_owned(),
            )
            .await
    }
}
