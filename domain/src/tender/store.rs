//! Persistence of tenders, lots and the holiday calendar.

pub mod tenders {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tenders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub owner_org_id: String,
        pub tenderer_org_id: String,
        pub agency_org_id: Option<String>,
        pub title: String,
        pub kind: String,
        pub procedure: String,
        pub award_method: String,
        pub document_fee_fen: i64,
        pub currency: String,
        pub bid_deadline: ChronoDateTimeUtc,
        pub bid_validity_days: i32,
        pub opening_fields: String,
        pub accelerator: i32,
        pub status: String,
        pub published_at: Option<ChronoDateTimeUtc>,
        pub cancelled_at: Option<ChronoDateTimeUtc>,
        pub cancel_reason: Option<String>,
        pub created_by: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        pub questions_closed_at: Option<ChronoDateTimeUtc>,
        /// Bids a lot needs to be opened, fixed at publication by the rule then in force.
        pub min_bids: Option<i32>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod lots {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "lots")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        pub position: i32,
        pub title: String,
        pub budget_fen: i64,
        pub deposit_fen: i64,
        pub price_ceiling_fen: Option<i64>,
        pub status: String,
        /// The lot's X25519 opening public key (base64), from publication on.
        pub opening_public_key: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod calendar_days {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendar_days")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: ChronoDate,
        pub kind: String,
        pub name: String,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod documents {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "documents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub title: String,
        pub filename: String,
        pub content_type: String,
        pub size: i64,
        pub sha256: String,
        pub uploaded_by: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod document_downloads {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "document_downloads")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub tender_id: String,
        pub document_id: String,
        pub account_id: String,
        pub organization_id: Option<String>,
        pub ip: Option<String>,
        pub at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tender_questions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tender_questions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub asked_by_account: String,
        pub asked_by_org: Option<String>,
        pub question: String,
        pub asked_at: ChronoDateTimeUtc,
        pub answer: Option<String>,
        pub answered_by: Option<String>,
        pub answered_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tender_amendments {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tender_amendments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub seq: i32,
        pub title: String,
        pub body: String,
        pub affects_bids: bool,
        pub document_ids: String,
        pub question_id: Option<String>,
        pub deadline_before: ChronoDateTimeUtc,
        pub deadline_after: ChronoDateTimeUtc,
        pub published_by: String,
        pub published_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
