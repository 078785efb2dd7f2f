use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Failed sign-ins, kept in the database so that the rate limit holds across every api node.
#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Id,
    Email,
    Ip,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(big_pk_auto(LoginFailures::Id))
                    .col(string_len(LoginFailures::Email, 254))
                    .col(string_len(LoginFailures::Ip, 64))
                    .col(timestamp_with_time_zone(LoginFailures::At))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_login_failures_email_at", LoginFailures::Email),
            ("idx_login_failures_ip_at", LoginFailures::Ip),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(LoginFailures::Table)
                        .col(col)
                        .col(LoginFailures::At)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
