//! Persistence of evaluation: the K drawn at each lot's opening, and the committee's signed sheets.

pub mod price_k_draws {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "price_k_draws")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        pub commitment: String,
        /// The secret, sealed under the master key until the opening.
        pub secret_sealed: String,
        /// The range K is drawn from, as JSON `{min, max, step}`.
        pub k_range: String,
        pub public_input: Option<String>,
        pub k: Option<String>,
        /// The signed record, once revealed (canonical JSON).
        pub record: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub revealed_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod evaluation_sheets {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "evaluation_sheets")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub expert_id: String,
        /// `review` or `scores`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub phase: String,
        /// The canonical JSON the expert signed.
        pub body: String,
        /// Ed25519, base64.
        pub signature: String,
        pub key_id: String,
        /// The raw public key it verified under, base64.
        pub public_key: String,
        pub account_id: String,
        pub submitted_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod evaluation_report_signatures {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "evaluation_report_signatures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub expert_id: String,
        pub report_sha256: String,
        pub dissent: Option<String>,
        pub signature: String,
        pub key_id: String,
        pub public_key: String,
        pub signed_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod evaluation_reports {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "evaluation_reports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        pub report_sha256: String,
        /// The platform-signed record: the report, every member's signature, the platform's.
        pub record: String,
        pub signed_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod lot_candidates {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "lot_candidates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        /// The platform-signed list (canonical JSON).
        pub record: String,
        pub published_at: ChronoDateTimeUtc,
        pub publicity_ends_at: ChronoDateTimeUtc,
        /// When objections (GP: challenges) close; the publicity's end when `None`.
        pub objections_close_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod objections {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "objections")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub lot_id: String,
        pub organization_id: String,
        pub account_id: String,
        pub body: String,
        pub raised_at: ChronoDateTimeUtc,
        pub answer_due: ChronoDateTimeUtc,
        pub answer: Option<String>,
        pub answered_by: Option<String>,
        pub answered_at: Option<ChronoDateTimeUtc>,
        /// When the chronograph found it unanswered at its due time.
        pub overdue_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod clarifications {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "clarifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub lot_id: String,
        pub bidder_id: String,
        /// The member who asked.
        pub expert_id: String,
        pub question: String,
        /// Asked to explain an abnormally low price (87号令 Art 60).
        pub abnormally_low: bool,
        pub raised_at: ChronoDateTimeUtc,
        pub answer_due: ChronoDateTimeUtc,
        pub answer: Option<String>,
        pub answered_by: Option<String>,
        pub answered_at: Option<ChronoDateTimeUtc>,
        /// When the chronograph found it unanswered at its deadline.
        pub lapsed_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod complaints {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "complaints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub lot_id: String,
        /// The objection complained of: one complaint each.
        pub objection_id: String,
        pub organization_id: String,
        pub account_id: String,
        pub body: String,
        pub filed_at: ChronoDateTimeUtc,
        pub accept_due: ChronoDateTimeUtc,
        /// Accepted with the procedure suspended until the decision (政府采购法 Art 57).
        pub suspends: bool,
        pub accepted_at: Option<ChronoDateTimeUtc>,
        pub refused_reason: Option<String>,
        pub decide_due: Option<ChronoDateTimeUtc>,
        pub decided_at: Option<ChronoDateTimeUtc>,
        pub upheld: Option<bool>,
        pub decision: Option<String>,
        pub decided_by: Option<String>,
        /// When the chronograph found an acceptance or a decision late.
        pub overdue_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod quote_rounds {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "quote_rounds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub lot_id: String,
        /// 1, 2, … within the lot.
        pub number: i32,
        /// The bidders still in, called to quote: a JSON array of organization ids.
        pub bidders: String,
        pub deadline: ChronoDateTimeUtc,
        pub key_id: String,
        pub public_key: String,
        /// The round's opening secret under the master key, bound to the round.
        pub wrapped_secret: String,
        /// The member who called the round.
        pub called_by: String,
        pub called_at: ChronoDateTimeUtc,
        /// The signed record once opened.
        pub record: Option<String>,
        pub opened_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod round_quotes {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "round_quotes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub round_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub organization_id: String,
        pub envelope_sha256: String,
        pub size: i64,
        pub signer_key_id: String,
        pub received_at: ChronoDateTimeUtc,
        /// This bidder's submission number in the round: a replacement counts up.
        pub seq: i64,
        pub receipt: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod lot_awards {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "lot_awards")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub tender_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub lot_id: String,
        pub winner_org_id: String,
        pub registration_id: String,
        /// The award notice the platform signed (canonical JSON).
        pub record: String,
        pub awarded_at: ChronoDateTimeUtc,
        pub contract_due: ChronoDateTimeUtc,
        /// The contract as recorded, signed by the platform (canonical JSON).
        pub contract_record: Option<String>,
        pub contract_at: Option<ChronoDateTimeUtc>,
        pub reminded_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
