//! Persistence of live auctions: the state row each bid is decided against under its lock, the
//! bidders' pseudonyms and the accepted bids.

pub mod auctions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auctions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        pub status: String,
        /// The live step: a decimal amount, or for `reverse` a percentage.
        pub increment: String,
        pub leader_pseudonym: Option<String>,
        pub leader_amount_fen: Option<i64>,
        pub leader_seq: Option<i64>,
        pub leader_at: Option<ChronoDateTimeUtc>,
        pub ends_at: Option<ChronoDateTimeUtc>,
        pub last_seq: i64,
        /// JSON array of the pseudonyms that bid during the listing, sorted.
        pub listing_bidders: String,
        /// `sold`, or the failure's reason (`no_bids`, `reserve_not_met`, `cancelled`), once closed.
        pub result: Option<String>,
        /// The reserve, revealed at the close.
        pub reserve_fen: Option<i64>,
        pub closed_at: Option<ChronoDateTimeUtc>,
        /// The signed auction record (canonical JSON), once closed.
        pub record: Option<String>,
        /// The signed confirmation of the sale (成交确认书), when sold.
        pub confirmation: Option<String>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod auction_bidders {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auction_bidders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub organization_id: String,
        /// 竞买号: all anyone sees of the bidder until the result.
        pub pseudonym: String,
        pub registration_id: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod auction_bids {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auction_bids")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub pseudonym: String,
        pub organization_id: String,
        pub account_id: String,
        pub amount_fen: i64,
        pub accepted_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
