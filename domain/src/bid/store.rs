//! Sealed-bid persistence: opening keys, receipted bids and opening records.

pub mod opening_keys {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "opening_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        pub key_id: String,
        pub public_key: String,
        /// base64(nonce ‖ AES-256-GCM ciphertext ‖ tag) under the master key.
        pub wrapped_secret: String,
        pub created_at: ChronoDateTimeUtc,
        pub unwrapped_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bids {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bids")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub lot_id: String,
        pub organization_id: String,
        pub seq: i64,
        pub envelope_sha256: String,
        pub size: i64,
        pub signer_key_id: String,
        pub received_at: ChronoDateTimeUtc,
        /// `current`, `replaced` or `withdrawn`.
        pub status: String,
        pub withdrawn_at: Option<ChronoDateTimeUtc>,
        /// The signed receipt as sent (canonical JSON).
        pub receipt: String,
        pub withdrawal_receipt: Option<String>,
        /// At the opening: `opened`, `revoked` or `withdrawn`.
        pub outcome: Option<String>,
        pub outcome_reason: Option<String>,
        /// The decrypted archive in the document store, once opened.
        pub plaintext_sha256: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bid_openings {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bid_openings")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        /// `opened` or `failed`.
        pub status: String,
        /// The signed record, canonical JSON.
        pub record: String,
        pub opened_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The questions other areas ask of bids.
pub mod queries {
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
    use tenderhall_model::state::BidStatus;

    use super::{bid_openings, bids};
    use crate::error::DomainResult;

    /// A lot's published opening record (canonical JSON), once the lot was opened or failed.
    pub async fn opening_record(
        db: &impl ConnectionTrait,
        tender_id: &str,
        lot_id: &str,
    ) -> DomainResult<Option<String>> {
        Ok(
            bid_openings::Entity::find_by_id((tender_id.to_owned(), lot_id.to_owned()))
                .one(db)
                .await?
                .map(|o| o.record),
        )
    }

    /// Whether an organization has a current bid for a lot.
    pub async fn has_current_bid(
        db: &impl ConnectionTrait,
        tender_id: &str,
        lot_id: &str,
        organization_id: &str,
    ) -> DomainResult<bool> {
        Ok(bids::Entity::find()
            .filter(bids::Column::TenderId.eq(tender_id))
            .filter(bids::Column::LotId.eq(lot_id))
            .filter(bids::Column::OrganizationId.eq(organization_id))
            .filter(bids::Column::Status.eq(BidStatus::Current.as_str()))
            .one(db)
            .await?
            .is_some())
    }
}
