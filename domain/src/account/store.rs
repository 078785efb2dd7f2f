//! Persistence of organizations, accounts, sessions and failed sign-ins.

pub mod organizations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organizations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub kind: String,
        pub credit_code: String,
        pub basic_account: Option<String>,
        pub verified: bool,
        pub verified_at: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod accounts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "accounts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub email: String,
        pub password_hash: String,
        pub name: String,
        pub organization_id: Option<String>,
        pub is_operator: bool,
        pub created_at: ChronoDateTimeUtc,
        /// `zh-CN` or `en`: the language of the account's mail and notifications.
        pub language: String,
        /// The expert of the pool this account is, if any.
        pub expert_id: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sessions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub account_id: String,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub revoked_at: Option<ChronoDateTimeUtc>,
        pub ip: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod login_failures {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "login_failures")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub email: String,
        pub ip: String,
        pub at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The questions other areas ask of organizations and accounts.
pub mod queries {
    use std::collections::HashMap;

    use sea_orm::{
        ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    };

    use super::{accounts, organizations};
    use crate::error::DomainResult;

    /// An organization by id.
    pub async fn organization(
        db: &impl ConnectionTrait,
        id: &str,
    ) -> DomainResult<Option<organizations::Model>> {
        Ok(organizations::Entity::find_by_id(id.to_owned())
            .one(db)
            .await?)
    }

    /// The basic account of the organization whose id is the SQL expression `organization_id`,
    /// as a scalar subquery, for a statement of another area that reads it with its own rows in one
    /// round trip (the bank intake's lock-and-read).
    pub fn basic_account_sql(organization_id: &str) -> String {
        format!("(SELECT o.basic_account FROM organizations o WHERE o.id = {organization_id})")
    }

    /// The unified social credit codes of organizations, by id (unknown ids are left out).
    pub async fn credit_codes(
        db: &impl ConnectionTrait,
        ids: Vec<String>,
    ) -> DomainResult<Vec<String>> {
        Ok(organizations::Entity::find()
            .select_only()
            .column(organizations::Column::CreditCode)
            .filter(organizations::Column::Id.is_in(ids))
            .into_tuple()
            .all(db)
            .await?)
    }

    /// Every verified supervisor organization (监督部门), by id: complaints go to them.
    pub async fn supervisor_organizations(db: &impl ConnectionTrait) -> DomainResult<Vec<String>> {
        Ok(organizations::Entity::find()
            .select_only()
            .column(organizations::Column::Id)
            .filter(organizations::Column::Kind.eq("supervisor"))
            .filter(organizations::Column::Verified.eq(true))
            .into_tuple()
            .all(db)
            .await?)
    }

    /// The credit codes of every verified supervisor organization (监督部门): their staff sit on no
    /// committee.
    pub async fn supervisor_credit_codes(db: &impl ConnectionTrait) -> DomainResult<Vec<String>> {
        Ok(organizations::Entity::find()
            .select_only()
            .column(organizations::Column::CreditCode)
            .filter(organizations::Column::Kind.eq("supervisor"))
            .filter(organizations::Column::Verified.eq(true))
            .into_tuple()
            .all(db)
            .await?)
    }

    /// The account of an expert of the pool.
    pub async fn account_of_expert(
        db: &impl ConnectionTrait,
        expert_id: &str,
    ) -> DomainResult<Option<accounts::Model>> {
        Ok(accounts::Entity::find()
            .filter(accounts::Column::ExpertId.eq(expert_id))
            .one(db)
            .await?)
    }

    /// The registered basic account (基本账户) of an organization, if it has one.
    pub async fn basic_account(
        db: &impl ConnectionTrait,
        id: &str,
    ) -> DomainResult<Option<String>> {
        Ok(organization(db, id).await?.and_then(|o| o.basic_account))
    }

    /// Organizations' names, by id.
    pub async fn names(
        db: &impl ConnectionTrait,
        ids: impl IntoIterator<Item = String>,
    ) -> DomainResult<HashMap<String, String>> {
        Ok(organizations::Entity::find()
            .filter(organizations::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect())
    }

    /// The accounts of the given ids and of every member of the given organizations, once each,
    /// ordered by id.
    pub async fn accounts_and_members(
        db: &impl ConnectionTrait,
        account_ids: Vec<String>,
        organization_ids: &[String],
    ) -> DomainResult<Vec<accounts::Model>> {
        let mut ids = account_ids;
        for chunk in organization_ids.chunks(500) {
            let members: Vec<String> = accounts::Entity::find()
                .select_only()
                .column(accounts::Column::Id)
                .filter(accounts::Column::OrganizationId.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(db)
                .await?;
            ids.extend(members);
        }
        ids.sort();
        ids.dedup();
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            found.extend(
                accounts::Entity::find()
                    .filter(accounts::Column::Id.is_in(chunk.iter().cloned()))
                    .order_by_asc(accounts::Column::Id)
                    .all(db)
                    .await?,
            );
        }
        Ok(found)
    }

    /// An expert's new account, without a password until the expert follows its activation link;
    /// for the caller to write with its other rows (the pool's import).
    pub fn new_expert_account(
        account_id: &str,
        email: &str,
        name: &str,
        expert_id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> accounts::ActiveModel {
        use sea_orm::ActiveValue::Set;
        accounts::ActiveModel {
            id: Set(account_id.to_owned()),
            email: Set(email.to_owned()),
            password_hash: Set(String::new()),
            name: Set(name.to_owned()),
            organization_id: Set(None),
            is_operator: Set(false),
            created_at: Set(now),
            language: Set("zh-CN".to_owned()),
            expert_id: Set(Some(expert_id.to_owned())),
        }
    }

    /// Which of these emails have an account, and the expert that account is (if any).
    pub async fn email_owners(
        db: &impl ConnectionTrait,
        emails: &[String],
    ) -> DomainResult<HashMap<String, Option<String>>> {
        let mut owners = HashMap::new();
        for chunk in emails.chunks(500) {
            let found: Vec<(String, Option<String>)> = accounts::Entity::find()
                .select_only()
                .column(accounts::Column::Email)
                .column(accounts::Column::ExpertId)
                .filter(accounts::Column::Email.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(db)
                .await?;
            owners.extend(found);
        }
        Ok(owners)
    }

    /// Changes an account's sign-in email (an expert's, when the pool's import changes it).
    pub async fn set_email(
        db: &impl ConnectionTrait,
        account_id: &str,
        email: &str,
    ) -> DomainResult<()> {
        accounts::Entity::update_many()
            .col_expr(accounts::Column::Email, email.into())
            .filter(accounts::Column::Id.eq(account_id))
            .exec(db)
            .await?;
        Ok(())
    }

    /// The member accounts of one organization.
    pub async fn members(
        db: &impl ConnectionTrait,
        organization_id: &str,
    ) -> DomainResult<Vec<accounts::Model>> {
        Ok(accounts::Entity::find()
            .filter(accounts::Column::OrganizationId.eq(organization_id))
            .all(db)
            .await?)
    }

    /// The account with this (normalized) email, if any.
    pub async fn by_email(
        db: &impl ConnectionTrait,
        email: &str,
    ) -> DomainResult<Option<accounts::Model>> {
        Ok(accounts::Entity::find()
            .filter(accounts::Column::Email.eq(email))
            .one(db)
            .await?)
    }

    /// Sets an account's password hash and ends every session it has (a password reset or an
    /// expert's activation): whoever knew the old password is signed out.
    pub async fn set_password_ending_sessions(
        db: &impl ConnectionTrait,
        account_id: &str,
        password_hash: String,
        now: chrono::DateTime<chrono::Utc>,
    ) -> DomainResult<()> {
        use sea_orm::ActiveValue::Set;
        accounts::Entity::update(accounts::ActiveModel {
            id: Set(account_id.to_owned()),
            password_hash: Set(password_hash),
            ..Default::default()
        })
        .exec(db)
        .await?;
        super::sessions::Entity::update_many()
            .col_expr(super::sessions::Column::RevokedAt, Some(now).into())
            .filter(super::sessions::Column::AccountId.eq(account_id))
            .filter(super::sessions::Column::RevokedAt.is_null())
            .exec(db)
            .await?;
        Ok(())
    }

    /// The platform operators' accounts.
    pub async fn operators(db: &impl ConnectionTrait) -> DomainResult<Vec<accounts::Model>> {
        Ok(accounts::Entity::find()
            .filter(accounts::Column::IsOperator.eq(true))
            .all(db)
            .await?)
    }
}
