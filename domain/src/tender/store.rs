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
        /// The evaluation set-up as published (JSON; docs/spec/evaluation.md).
        pub evaluation: Option<String>,
        /// GB/T 2260 division code.
        pub region: Option<String>,
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
        /// The auction terms as JSON (`tender::auction::StoredTerms`), for an auction lot.
        pub auction: Option<String>,
        /// The reserve price, sealed (docs/auctions.md "The reserve and the result").
        pub reserve_sealed: Option<String>,
        /// What `reserve_sealed` is sealed to: `master` (a draft) or `opening_key`.
        pub reserve_sealed_to: Option<String>,
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

/// The questions other areas ask of tenders, so that they never query the tables themselves.
pub mod queries {
    use std::collections::HashMap;

    use chrono::{DateTime, Utc};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

    use super::{lots, tenders};
    use crate::error::DomainResult;

    /// The organizations that own a tender now: its tenderer, and its agency while the agency
    /// holds the tenderer's current mandate (委托代理). They hear of its questions, its close and
    /// its opening.
    pub async fn owner_organizations(
        db: &impl ConnectionTrait,
        tender: &tenders::Model,
    ) -> DomainResult<Vec<String>> {
        let mut owners = vec![tender.tenderer_org_id.clone()];
        if let Some(agency) = &tender.agency_org_id
            && crate::mandate::store::current(db, &tender.tenderer_org_id, agency)
                .await?
                .is_some()
        {
            owners.push(agency.clone());
        }
        Ok(owners)
    }

    /// A tender's bid deadline and accelerator, for the tender whose id is the SQL expression
    /// `tender_id`, as two scalar subqueries, for a statement of another area that reads them with
    /// its own rows in one round trip (the bank intake's lock-and-read).
    pub fn deadline_and_accelerator_sql(tender_id: &str) -> [String; 2] {
        ["bid_deadline", "accelerator"]
            .map(|column| format!("(SELECT t.{column} FROM tenders t WHERE t.id = {tender_id})"))
    }

    /// The ids of the tenders of a tenderer, as a subquery for another area's statement (the draw's
    /// count of an expert's recent committees for the same tenderer).
    pub fn ids_of_tenderer(tenderer_org_id: &str) -> sea_orm::sea_query::SelectStatement {
        use sea_orm::sea_query::Query;
        Query::select()
            .column(tenders::Column::Id)
            .from(tenders::Entity)
            .and_where(tenders::Column::TendererOrgId.eq(tenderer_org_id))
            .to_owned()
    }

    /// A tender's row.
    pub async fn by_id(
        db: &impl ConnectionTrait,
        tender_id: &str,
    ) -> DomainResult<Option<tenders::Model>> {
        Ok(tenders::Entity::find_by_id(tender_id.to_owned())
            .one(db)
            .await?)
    }

    /// A tender's row, locked until the caller's transaction ends: every change to its bids,
    /// registrations and deposits takes this lock, and the deadline job too, so each is ordered
    /// against the deadline.
    pub async fn lock(
        txn: &impl ConnectionTrait,
        tender_id: &str,
    ) -> DomainResult<Option<tenders::Model>> {
        Ok(tenders::Entity::find_by_id(tender_id.to_owned())
            .lock_exclusive()
            .one(txn)
            .await?)
    }

    /// The accelerator a tender runs with (1 for an unknown one): refund periods are divided by it.
    pub async fn accelerator(db: &impl ConnectionTrait, tender_id: &str) -> DomainResult<u32> {
        Ok(by_id(db, tender_id)
            .await?
            .map_or(1, |t| u32::try_from(t.accelerator).unwrap_or(1)))
    }

    /// Sets a lot's status (the opening decides `opened` or `failed`).
    pub async fn set_lot_status(
        txn: &impl ConnectionTrait,
        tender_id: &str,
        lot_id: &str,
        status: &str,
    ) -> DomainResult<()> {
        lots::Entity::update_many()
            .col_expr(lots::Column::Status, Expr::value(status))
            .filter(lots::Column::TenderId.eq(tender_id))
            .filter(lots::Column::LotId.eq(lot_id))
            .exec(txn)
            .await?;
        Ok(())
    }

    /// Publishes a lot's opening public key (base64).
    pub async fn set_opening_key(
        txn: &impl ConnectionTrait,
        tender_id: &str,
        lot_id: &str,
        public_key: &str,
    ) -> DomainResult<()> {
        lots::Entity::update_many()
            .col_expr(lots::Column::OpeningPublicKey, Expr::value(public_key))
            .filter(lots::Column::TenderId.eq(tender_id))
            .filter(lots::Column::LotId.eq(lot_id))
            .exec(txn)
            .await?;
        Ok(())
    }

    /// The bid deadline of a tender, or `None` for an unknown one.
    pub async fn bid_deadline(
        db: &impl ConnectionTrait,
        tender_id: &str,
    ) -> DomainResult<Option<DateTime<Utc>>> {
        Ok(bid_deadlines(db, &[tender_id.to_owned()])
            .await?
            .remove(tender_id))
    }

    /// The bid deadlines of several tenders, by id (unknown ids are absent).
    pub async fn bid_deadlines(
        db: &impl ConnectionTrait,
        tender_ids: &[String],
    ) -> DomainResult<HashMap<String, DateTime<Utc>>> {
        if tender_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut deadlines = HashMap::with_capacity(tender_ids.len());
        // In chunks: a list of every tender with a refund outgrows a statement's parameters.
        for chunk in tender_ids.chunks(500) {
            let rows: Vec<(String, DateTime<Utc>)> = tenders::Entity::find()
                .select_only()
                .column(tenders::Column::Id)
                .column(tenders::Column::BidDeadline)
                .filter(tenders::Column::Id.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(db)
                .await?;
            deadlines.extend(rows);
        }
        Ok(deadlines)
    }

    /// The titles of several tenders, by id (unknown ids are absent): one query per 500 for a
    /// list that names many tenders.
    pub async fn titles(
        db: &impl ConnectionTrait,
        tender_ids: &[String],
    ) -> DomainResult<HashMap<String, String>> {
        let mut titles = HashMap::with_capacity(tender_ids.len());
        for chunk in tender_ids.chunks(500) {
            let rows: Vec<(String, String)> = tenders::Entity::find()
                .select_only()
                .column(tenders::Column::Id)
                .column(tenders::Column::Title)
                .filter(tenders::Column::Id.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(db)
                .await?;
            titles.extend(rows);
        }
        Ok(titles)
    }
}
