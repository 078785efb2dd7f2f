//! Persistence of registrations, virtual accounts, the ledger, bank notifications and flags.

pub mod batch;

pub mod registrations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "registrations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub lot_id: String,
        pub organization_id: String,
        pub account_id: String,
        pub account_no: String,
        pub deposit_due_fen: i64,
        pub currency: String,
        /// `active` or `withdrawn`.
        pub status: String,
        pub created_at: ChronoDateTimeUtc,
        pub withdrawn_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod virtual_accounts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "virtual_accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_no: String,
        /// `deposit` or `fee`.
        pub kind: String,
        pub tender_id: String,
        /// The lot of a deposit account; empty for a tender's fee account.
        pub lot_id: String,
        pub organization_id: String,
        pub registration_id: Option<String>,
        pub amount_due_fen: i64,
        pub currency: String,
        /// `open` takes payments; `closed` sends them to suspense.
        pub status: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod journal_entries {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "journal_entries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub at: ChronoDateTimeUtc,
        /// `payment`, `suspense`, `fee_earned`, `refund`, `refund_confirmed`, `forfeit`, …
        pub kind: String,
        pub tender_id: Option<String>,
        /// What caused it: a bank transaction id, a refund id, …
        pub reference: String,
        pub memo: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod postings {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "postings")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub entry_id: String,
        pub account: String,
        /// Signed fen: debits positive, credits negative.
        pub amount_fen: i64,
        pub currency: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which payer paid which deposit account, once per pair (the shared-payer check).
pub mod deposit_payers {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deposit_payers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub payer_account: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub account_no: String,
        pub tender_id: String,
        pub organization_id: String,
        pub first_paid_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bank_notifications {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bank_notifications")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub bank_txn_id: String,
        /// SHA-256 of the raw body: the same id with another body is a conflict.
        pub body_sha256: String,
        pub account_no: String,
        pub amount_fen: i64,
        pub currency: String,
        pub paid_at: ChronoDateTimeUtc,
        pub payer_name: String,
        pub payer_account: String,
        /// `credited` or `suspense`.
        pub outcome: String,
        pub entry_id: String,
        pub received_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod deposit_flags {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deposit_flags")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub tender_id: String,
        pub lot_id: String,
        /// `payer_mismatch` (实施条例 Art 26) or `shared_payer` (实施条例 Art 40).
        pub kind: String,
        pub account_no: String,
        pub organization_id: String,
        pub payer_account: String,
        pub detail: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod refunds {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "refunds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_no: String,
        pub tender_id: String,
        pub organization_id: String,
        pub reason: String,
        pub principal_fen: i64,
        pub interest_fen: i64,
        pub currency: String,
        pub payee_account: String,
        pub due_by: ChronoDateTimeUtc,
        pub status: String,
        pub bank_ref: Option<String>,
        pub last_error: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub instructed_at: Option<ChronoDateTimeUtc>,
        pub confirmed_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod guarantee_issuers {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "guarantee_issuers")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        /// Raw Ed25519, base64.
        pub public_key: String,
        pub created_at: ChronoDateTimeUtc,
        pub revoked_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod guarantees {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "guarantees")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub registration_id: String,
        pub issuer_id: String,
        pub guarantee_no: String,
        pub amount_fen: i64,
        pub valid_until: ChronoDateTimeUtc,
        /// The document as presented (JSON); the signature is over its canonical form.
        pub document: String,
        pub signature: String,
        pub accepted_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The questions other code asks of registrations, each written once.
pub mod queries {
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
    use tenderhall_model::state::RegistrationStatus;

    use super::registrations;
    use crate::error::DomainResult;

    /// The organizations with an active registration for any lot of a tender, once each.
    pub async fn registered_organizations(
        db: &impl ConnectionTrait,
        tender_id: &str,
    ) -> DomainResult<Vec<String>> {
        Ok(registrations::Entity::find()
            .select_only()
            .column(registrations::Column::OrganizationId)
            .distinct()
            .filter(registrations::Column::TenderId.eq(tender_id))
            .filter(registrations::Column::Status.eq(RegistrationStatus::Active.as_str()))
            .into_tuple()
            .all(db)
            .await?)
    }

    /// The organizations with an active registration for one lot.
    pub async fn registered_organizations_of_lot(
        db: &impl ConnectionTrait,
        tender_id: &str,
        lot_id: &str,
    ) -> DomainResult<Vec<String>> {
        Ok(registrations::Entity::find()
            .select_only()
            .column(registrations::Column::OrganizationId)
            .distinct()
            .filter(registrations::Column::TenderId.eq(tender_id))
            .filter(registrations::Column::LotId.eq(lot_id))
            .filter(registrations::Column::Status.eq(RegistrationStatus::Active.as_str()))
            .into_tuple()
            .all(db)
            .await?)
    }

    /// The organization's active registration for a lot, if any. Withdrawn ones stay on record
    /// beside it (a bidder may register again after withdrawing).
    pub async fn active_registration(
        db: &impl ConnectionTrait,
        tender_id: &str,
        lot_id: &str,
        organization_id: &str,
    ) -> DomainResult<Option<registrations::Model>> {
        Ok(registrations::Entity::find()
            .filter(registrations::Column::TenderId.eq(tender_id))
            .filter(registrations::Column::LotId.eq(lot_id))
            .filter(registrations::Column::OrganizationId.eq(organization_id))
            .filter(registrations::Column::Status.eq(RegistrationStatus::Active.as_str()))
            .one(db)
            .await?)
    }
}
