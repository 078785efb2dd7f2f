//! Persistence of jobs.

pub mod jobs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "jobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: String,
        pub payload: String,
        pub run_at: ChronoDateTimeUtc,
        pub status: String,
        pub attempts: i32,
        pub max_attempts: i32,
        pub last_error: Option<String>,
        pub lease_until: Option<ChronoDateTimeUtc>,
        pub leased_by: Option<String>,
        #[sea_orm(unique)]
        pub idempotency_key: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        pub finished_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
