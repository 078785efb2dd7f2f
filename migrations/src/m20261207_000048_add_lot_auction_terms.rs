use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Lots {
    Table,
    Auction,
    ReserveSealed,
    ReserveSealedTo,
}

/// A lot's auction terms (docs/auctions.md): the public terms as JSON, and the reserve price
/// sealed: under the master key while the tender is a draft, to the lot's opening key (HPKE) from
/// publication until the close. One column per statement: SQLite adds one column at a time.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Lots::Auction, Lots::ReserveSealed, Lots::ReserveSealedTo] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Lots::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Lots::ReserveSealedTo, Lots::ReserveSealed, Lots::Auction] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Lots::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
