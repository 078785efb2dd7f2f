//! Persistence of the platform's keys and of bidders' signing keys.

pub mod platform_keys {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "platform_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key_id: String,
        #[sea_orm(unique)]
        pub purpose: String,
        pub algorithm: String,
        pub public_key: String,
        pub wrapped_private_key: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod signing_keys {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "signing_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub key_id: String,
        pub organization_id: String,
        pub public_key: String,
        pub created_at: ChronoDateTimeUtc,
        pub created_by: String,
        pub revoked_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The questions other areas ask of signing keys.
pub mod queries {
    use std::collections::HashMap;

    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

    use super::signing_keys;
    use crate::error::DomainResult;

    /// An organization's unrevoked signing keys (the ones a new bid may be signed with).
    pub async fn unrevoked_of(
        db: &impl ConnectionTrait,
        organization_id: &str,
    ) -> DomainResult<Vec<signing_keys::Model>> {
        Ok(signing_keys::Entity::find()
            .filter(signing_keys::Column::OrganizationId.eq(organization_id))
            .filter(signing_keys::Column::RevokedAt.is_null())
            .all(db)
            .await?)
    }

    /// Signing keys by key id, revoked or not (a bid signed before a revocation still opens).
    pub async fn by_ids(
        db: &impl ConnectionTrait,
        key_ids: impl IntoIterator<Item = String>,
    ) -> DomainResult<HashMap<String, signing_keys::Model>> {
        Ok(signing_keys::Entity::find()
            .filter(signing_keys::Column::KeyId.is_in(key_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|k| (k.key_id.clone(), k))
            .collect())
    }
}
