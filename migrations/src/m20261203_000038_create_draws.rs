use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Draws {
    Table,
    Id,
    TenderId,
    LotId,
    RequestedBy,
    Status,
    Seats,
    SeatsTotal,
    Reserves,
    Commitment,
    SecretSealed,
    PoolHash,
    PublicInput,
    InputDeadline,
    InviteSeconds,
    CreatedAt,
    CompletedAt,
    FinalAt,
}

#[derive(DeriveIden)]
enum DrawCandidates {
    Table,
    DrawId,
    ExpertId,
    Eligible,
    Reason,
    Employer,
    Fills,
}

#[derive(DeriveIden)]
enum DrawContributions {
    Table,
    DrawId,
    OrganizationId,
    AccountId,
    Value,
    At,
}

#[derive(DeriveIden)]
enum DrawInvitations {
    Table,
    Id,
    DrawId,
    ExpertId,
    GroupIndex,
    TokenSha256,
    Status,
    InvitedAt,
    ExpiresAt,
    AnsweredAt,
}

/// Expert draws (在线专家抽取, docs/spec/draws.md): the draw with its commitment and its secret
/// (sealed under the master key until the committee is complete), the pool snapshot it committed to
/// (each candidate eligible or excluded with the reason), the supervisors' random contributions,
/// and the invitations with their answers. A draw's candidates are written once, when it is
/// requested; the ranking is not stored: it is a function of the secret, the public input and the
/// eligible ids, computed again when needed.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Draws::Table)
                    .col(string_len(Draws::Id, 64).primary_key())
                    .col(string_len(Draws::TenderId, 64))
                    .col(string_len(Draws::LotId, 64))
                    .col(string_len(Draws::RequestedBy, 64))
                    .col(string_len(Draws::Status, 16))
                    .col(text(Draws::Seats))
                    .col(integer(Draws::SeatsTotal))
                    .col(integer(Draws::Reserves))
                    .col(string_len(Draws::Commitment, 64))
                    .col(text(Draws::SecretSealed))
                    .col(string_len(Draws::PoolHash, 64))
                    .col(text_null(Draws::PublicInput))
                    .col(timestamp_with_time_zone(Draws::InputDeadline))
                    .col(big_integer(Draws::InviteSeconds))
                    .col(timestamp_with_time_zone(Draws::CreatedAt))
                    .col(timestamp_with_time_zone_null(Draws::CompletedAt))
                    .col(timestamp_with_time_zone_null(Draws::FinalAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_draws_lot")
                    .table(Draws::Table)
                    .col(Draws::TenderId)
                    .col(Draws::LotId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DrawCandidates::Table)
                    .col(string_len(DrawCandidates::DrawId, 64))
                    .col(string_len(DrawCandidates::ExpertId, 64))
                    .col(boolean(DrawCandidates::Eligible))
                    .col(string_len_null(DrawCandidates::Reason, 32))
                    .col(string_len(DrawCandidates::Employer, 18))
                    .col(string_len(DrawCandidates::Fills, 200))
                    .primary_key(
                        Index::create()
                            .col(DrawCandidates::DrawId)
                            .col(DrawCandidates::ExpertId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DrawContributions::Table)
                    .col(string_len(DrawContributions::DrawId, 64))
                    .col(string_len(DrawContributions::OrganizationId, 64))
                    .col(string_len(DrawContributions::AccountId, 64))
                    .col(string_len(DrawContributions::Value, 64))
                    .col(timestamp_with_time_zone(DrawContributions::At))
                    .primary_key(
                        Index::create()
                            .col(DrawContributions::DrawId)
                            .col(DrawContributions::OrganizationId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DrawInvitations::Table)
                    .col(string_len(DrawInvitations::Id, 64).primary_key())
                    .col(string_len(DrawInvitations::DrawId, 64))
                    .col(string_len(DrawInvitations::ExpertId, 64))
                    .col(integer(DrawInvitations::GroupIndex))
                    .col(string_len(DrawInvitations::TokenSha256, 64).unique_key())
                    .col(string_len(DrawInvitations::Status, 16))
                    .col(timestamp_with_time_zone(DrawInvitations::InvitedAt))
                    .col(timestamp_with_time_zone(DrawInvitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(DrawInvitations::AnsweredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_draw_invitations_draw_expert")
                    .table(DrawInvitations::Table)
                    .col(DrawInvitations::DrawId)
                    .col(DrawInvitations::ExpertId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_draw_invitations_expert")
                    .table(DrawInvitations::Table)
                    .col(DrawInvitations::ExpertId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
