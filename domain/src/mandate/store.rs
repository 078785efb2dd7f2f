//! Persistence of mandates: the one place that queries `agency_mandates`.

use std::collections::HashMap;

use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::Mandate;
use crate::error::DomainResult;

pub mod agency_mandates {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agency_mandates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tenderer_org_id: String,
        pub agency_org_id: String,
        pub granted_by: String,
        pub granted_at: ChronoDateTimeUtc,
        pub revoked_by: Option<String>,
        pub revoked_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl From<agency_mandates::Model> for Mandate {
    fn from(m: agency_mandates::Model) -> Self {
        Self {
            id: m.id,
            tenderer_org_id: m.tenderer_org_id,
            agency_org_id: m.agency_org_id,
            granted_by: m.granted_by,
            granted_at: m.granted_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// The current mandate of `agency` from `tenderer`, if any.
pub async fn current(
    db: &impl ConnectionTrait,
    tenderer: &str,
    agency: &str,
) -> DomainResult<Option<Mandate>> {
    Ok(agency_mandates::Entity::find()
        .filter(agency_mandates::Column::TendererOrgId.eq(tenderer))
        .filter(agency_mandates::Column::AgencyOrgId.eq(agency))
        .filter(agency_mandates::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .map(Mandate::from))
}

/// The current mandates among `pairs` of (tenderer, agency), by pair: one query for a page of
/// tenders.
pub async fn current_among(
    db: &impl ConnectionTrait,
    pairs: &[(String, String)],
) -> DomainResult<HashMap<(String, String), String>> {
    if pairs.is_empty() {
        return Ok(HashMap::new());
    }
    let agencies: Vec<&str> = pairs.iter().map(|(_, a)| a.as_str()).collect();
    Ok(agency_mandates::Entity::find()
        .filter(agency_mandates::Column::AgencyOrgId.is_in(agencies))
        .filter(agency_mandates::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| ((m.tenderer_org_id, m.agency_org_id), m.id))
        .filter(|(pair, _)| pairs.contains(pair))
        .collect())
}

/// The tenderers whose current mandate `agency` holds.
pub async fn tenderers_mandating(
    db: &impl ConnectionTrait,
    agency: &str,
) -> DomainResult<Vec<String>> {
    Ok(agency_mandates::Entity::find()
        .filter(agency_mandates::Column::AgencyOrgId.eq(agency))
        .filter(agency_mandates::Column::RevokedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.tenderer_org_id)
        .collect())
}

/// A mandate by id.
pub async fn by_id(db: &impl ConnectionTrait, id: &str) -> DomainResult<Option<Mandate>> {
    Ok(agency_mandates::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .map(Mandate::from))
}

/// Every mandate an organization gave or holds, newest first.
pub async fn of_organization(db: &impl ConnectionTrait, org: &str) -> DomainResult<Vec<Mandate>> {
    Ok(agency_mandates::Entity::find()
        .filter(
            agency_mandates::Column::TendererOrgId
                .eq(org)
                .or(agency_mandates::Column::AgencyOrgId.eq(org)),
        )
        .order_by_desc(agency_mandates::Column::GrantedAt)
        .order_by_desc(agency_mandates::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Mandate::from)
        .collect())
}
