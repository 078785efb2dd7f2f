//! Persistence of notifications, password resets and the mail log.

pub mod notifications {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub kind: String,
        pub title: String,
        pub body: String,
        pub object: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub read_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod password_resets {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "password_resets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub account_id: String,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub used_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mail_log {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_log")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_key: String,
        pub recipient: String,
        pub subject: String,
        pub transport: String,
        pub sent_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What other areas ask of mail and resets.
pub mod queries {
    use chrono::{DateTime, Utc};
    use sea_orm::ActiveValue::Set;

    use super::password_resets;

    /// A single-use link's row (a reset, or an expert's activation), for the caller to write with
    /// its other rows.
    pub fn new_reset(
        token_hash: String,
        account_id: String,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> password_resets::ActiveModel {
        password_resets::ActiveModel {
            token_hash: Set(token_hash),
            account_id: Set(account_id),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
        }
    }
}
