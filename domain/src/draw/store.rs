//! Persistence of expert draws: the draw, its candidates (the pool snapshot), the supervisors'
//! contributions and the invitations.

pub mod draws {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "draws")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub lot_id: String,
        pub requested_by: String,
        pub status: String,
        /// The seat groups asked for, as JSON.
        pub seats: String,
        pub seats_total: i32,
        pub reserves: i32,
        pub commitment: String,
        /// The secret, sealed under the master key until it is revealed.
        pub secret_sealed: String,
        pub pool_hash: String,
        pub public_input: Option<String>,
        pub input_deadline: ChronoDateTimeUtc,
        pub invite_seconds: i64,
        pub created_at: ChronoDateTimeUtc,
        pub completed_at: Option<ChronoDateTimeUtc>,
        pub final_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod draw_candidates {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "draw_candidates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub draw_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub expert_id: String,
        pub eligible: bool,
        pub reason: Option<String>,
        pub employer: String,
        /// The seat groups the expert can fill, as a JSON array of indexes.
        pub fills: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod draw_contributions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "draw_contributions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub draw_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub organization_id: String,
        pub account_id: String,
        pub value: String,
        pub at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod draw_invitations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "draw_invitations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub draw_id: String,
        pub expert_id: String,
        pub group_index: i32,
        pub token_sha256: String,
        pub status: String,
        pub invited_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub answered_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The questions asked of draws.
pub mod queries {
    use std::collections::HashMap;

    use chrono::{DateTime, Utc};
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
    use tenderhall_model::expert::draw::Answer;

    use super::{draw_invitations, draws};
    use crate::error::DomainResult;

    /// How many committees of the tenderer's tenders each expert accepted a seat on since `since`
    /// (the repeat limit of the avoidance rules).
    pub async fn evaluations_for_tenderer(
        db: &impl ConnectionTrait,
        tenderer_org_id: &str,
        since: DateTime<Utc>,
    ) -> DomainResult<HashMap<String, u32>> {
        let draws_of_tenderer = sea_orm::sea_query::Query::select()
            .column(draws::Column::Id)
            .from(draws::Entity)
            .and_where(Expr::col(draws::Column::TenderId).in_subquery(
                crate::tender::store::queries::ids_of_tenderer(tenderer_org_id),
            ))
            .to_owned();
        let counts: Vec<(String, i64)> = draw_invitations::Entity::find()
            .select_only()
            .column(draw_invitations::Column::ExpertId)
            .column_as(draw_invitations::Column::Id.count(), "n")
            .filter(draw_invitations::Column::Status.eq(Answer::Accepted.as_str()))
            .filter(draw_invitations::Column::InvitedAt.gte(since))
            .filter(Expr::col(draw_invitations::Column::DrawId).in_subquery(draws_of_tenderer))
            .group_by(draw_invitations::Column::ExpertId)
            .into_tuple()
            .all(db)
            .await?;
        Ok(counts
            .into_iter()
            .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect())
    }

    /// The seated committee of a lot: the experts who accepted a seat on its complete draw and
    /// still hold it, by id; empty while no draw is complete.
    pub async fn committee(
        db: &impl ConnectionTrait,
        tender_id: &str,
        lot_id: &str,
    ) -> DomainResult<Vec<String>> {
        let complete = sea_orm::sea_query::Query::select()
            .column(draws::Column::Id)
            .from(draws::Entity)
            .and_where(draws::Column::TenderId.eq(tender_id))
            .and_where(draws::Column::LotId.eq(lot_id))
            .and_where(
                draws::Column::Status.eq(tenderhall_model::state::DrawStatus::Complete.as_str()),
            )
            .to_owned();
        let mut ids: Vec<String> = draw_invitations::Entity::find()
            .select_only()
            .column(draw_invitations::Column::ExpertId)
            .filter(draw_invitations::Column::Status.eq(Answer::Accepted.as_str()))
            .filter(Expr::col(draw_invitations::Column::DrawId).in_subquery(complete))
            .into_tuple()
            .all(db)
            .await?;
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}
