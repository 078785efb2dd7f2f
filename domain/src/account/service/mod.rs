//! Account use cases: register, sign in and out, resolve a token, verify organizations, create
//! operators. Each change is one transaction with its audit entry on the platform chain.

use chrono::{DateTime, Utc};

use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use super::store::{accounts, organizations};
use super::{
    Email, OrganizationKind, Principal, parse_bank_account, parse_credit_code, parse_name, password,
};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};
use crate::id::{AccountId, OrganizationId};
use crate::store::{begin_write, unique, violates};

mod session;

pub(crate) use self::session::random_token;
pub use self::session::{NewSession, SignInPolicy, authenticate, sign_in, sign_out, token_hash};

/// What a person types to register (docs/spec/api-contract.md "Accounts and keys").
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub name: String,
    pub organization: NewOrganization,
    /// `zh-CN` (default) or `en`: the language of mail and notifications.
    pub language: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub name: String,
    pub kind: String,
    pub credit_code: String,
    pub basic_account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub account_id: AccountId,
    pub organization_id: OrganizationId,
    pub verified: bool,
}

fn email_taken() -> DomainError {
    DomainError::Refused {
        code: ErrorCode::EmailTaken,
        message: Text::new(
            "An account with this email address already exists; sign in instead.",
            "该电子邮箱已注册，请直接登录。",
        ),
    }
}

async fn hash_password(password: String) -> DomainResult<String> {
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(DomainError::internal)?
}

/// `zh-CN` (the default) or `en`.
pub fn parse_language(raw: Option<&str>) -> DomainResult<&'static str> {
    match raw.map(str::trim) {
        None | Some("") => Ok("zh-CN"),
        Some(l) if l.eq_ignore_ascii_case("zh-cn") || l.eq_ignore_ascii_case("zh") => Ok("zh-CN"),
        Some(l) if l.eq_ignore_ascii_case("en") || l.to_ascii_lowercase().starts_with("en-") => {
            Ok("en")
        }
        Some(other) => Err(DomainError::invalid(
            "language",
            format!("Unknown language `{other}`; known: zh-CN, en."),
            format!("未知语言 `{other}`；可选：zh-CN、en。"),
        )),
    }
}

/// Registers a person and their organization. A sandbox server verifies the organization at once
/// (docs/spec/api-contract.md "Conventions"); otherwise an operator must.
pub async fn register(
    db: &DatabaseConnection,
    input: Registration,
    auto_verify: bool,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<Registered> {
    let email = Email::parse(&input.email)?;
    password::check_strength(&input.password)?;
    let name = parse_name("name", &input.name, 100)?;
    let language = parse_language(input.language.as_deref())?;
    let org_name = parse_name("organization.name", &input.organization.name, 200)?;
    let kind: OrganizationKind = input.organization.kind.parse()?;
    let credit_code = parse_credit_code(&input.organization.credit_code)?;
    let basic_account = input
        .organization
        .basic_account
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .map(|a| parse_bank_account("organization.basic_account", a))
        .transpose()?;

    if accounts::Entity::find()
        .filter(accounts::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(email_taken());
    }
    let password_hash = hash_password(input.password).await?;

    let account_id = AccountId::generate();
    let organization_id = OrganizationId::generate();
    let txn = begin_write(db).await?;
    organizations::Entity::insert(organizations::ActiveModel {
        id: Set(organization_id.to_string()),
        name: Set(org_name.clone()),
        kind: Set(kind.as_str().to_owned()),
        credit_code: Set(credit_code.clone()),
        basic_account: Set(basic_account),
        verified: Set(auto_verify),
        verified_at: Set(auto_verify.then_some(now)),
        created_at: Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let inserted = accounts::Entity::insert(accounts::ActiveModel {
        id: Set(account_id.to_string()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
        name: Set(name),
        organization_id: Set(Some(organization_id.to_string())),
        expert_id: Set(None),
        is_operator: Set(false),
        created_at: Set(now),
        language: Set(language.to_owned()),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(e) = inserted {
        // Two registrations of one address racing: the unique index decides.
        return Err(if violates(&e, unique::ACCOUNT_EMAIL) {
            email_taken()
        } else {
            e.into()
        });
    }
    let actor = Actor::account(account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &actor,
            "account.register",
            format!("account:{account_id}"),
        )
        .details(json!({
            "organization_id": organization_id.as_str(),
            "organization_kind": kind.as_str(),
            "organization_name": org_name,
            "credit_code": credit_code,
            "verified": auto_verify,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Registered {
        account_id,
        organization_id,
        verified: auto_verify,
    })
}

/// An organization as its members, operators and supervisors see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub credit_code: String,
    pub basic_account: Option<String>,
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<organizations::Model> for Organization {
    fn from(m: organizations::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            kind: m.kind,
            credit_code: m.credit_code,
            basic_account: m.basic_account,
            verified: m.verified,
            verified_at: m.verified_at,
            created_at: m.created_at,
        }
    }
}

/// Members, operators and supervisors may read an organization; anyone else is refused before
/// the database is asked, so a refusal says nothing of whether it exists. The route asks it before
/// it parses the id, so a stranger is refused (403) whatever it names.
pub fn may_read_organization(principal: &Principal, org_id: &str) -> DomainResult<()> {
    if principal.is_member_of(org_id) || principal.is_operator || principal.is_supervisor() {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            "Only the organization's members, operators and supervisors may read it.",
            "只有该机构成员、平台运营人员和监督人员可以查看。",
        ))
    }
}

/// An organization, for those [`may_read_organization`] lets read it.
pub async fn get_organization(
    db: &DatabaseConnection,
    principal: &Principal,
    organization: &OrganizationId,
) -> DomainResult<Organization> {
    may_read_organization(principal, organization.as_str())?;
    organizations::Entity::find_by_id(organization.as_str().to_owned())
        .one(db)
        .await?
        .map(Organization::from)
        .ok_or(DomainError::NotFound)
}

/// Organizations for operators and supervisors, oldest first, optionally only (un)verified ones.
pub async fn list_organizations(
    db: &DatabaseConnection,
    principal: &Principal,
    verified: Option<bool>,
    after_id: Option<&str>,
    limit: u64,
) -> DomainResult<Vec<Organization>> {
    if !(principal.is_operator || principal.is_supervisor()) {
        return Err(DomainError::forbidden(
            "Only operators and supervisors may list organizations.",
            "只有平台运营人员和监督人员可以列出机构。",
        ));
    }
    let mut query = organizations::Entity::find()
        .order_by_asc(organizations::Column::Id)
        .limit(limit);
    if let Some(v) = verified {
        query = query.filter(organizations::Column::Verified.eq(v));
    }
    if let Some(after) = after_id {
        query = query.filter(organizations::Column::Id.gt(after));
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(Organization::from)
        .collect())
}

/// An operator verifies an organization (its documents checked off the platform). Verifying an
/// already verified organization changes nothing.
pub async fn verify_organization(
    db: &DatabaseConnection,
    actor: &Actor,
    organization: &OrganizationId,
    now: DateTime<Utc>,
) -> DomainResult<Organization> {
    let org_id = organization.as_str();
    let txn = begin_write(db).await?;
    let org = organizations::Entity::find_by_id(org_id.to_owned())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if org.verified {
        txn.rollback().await?;
        return Ok(org.into());
    }
    let updated = organizations::Entity::update(organizations::ActiveModel {
        id: Set(org.id.clone()),
        verified: Set(true),
        verified_at: Set(Some(now)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            actor,
            "organization.verify",
            format!("organization:{org_id}"),
        )
        .details(json!({"name": org.name, "kind": org.kind, "credit_code": org.credit_code})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(updated.into())
}

/// Creates a platform operator account (`tenderhall admin create-operator`).
pub async fn create_operator(
    db: &DatabaseConnection,
    email: &str,
    password_text: &str,
    name: &str,
    now: DateTime<Utc>,
) -> DomainResult<AccountId> {
    let email = Email::parse(email)?;
    password::check_strength(password_text)?;
    let name = parse_name("name", name, 100)?;
    if accounts::Entity::find()
        .filter(accounts::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(email_taken());
    }
    let password_hash = hash_password(password_text.to_owned()).await?;
    let account_id = AccountId::generate();
    let txn = begin_write(db).await?;
    accounts::Entity::insert(accounts::ActiveModel {
        id: Set(account_id.to_string()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
        name: Set(name),
        organization_id: Set(None),
        expert_id: Set(None),
        is_operator: Set(true),
        created_at: Set(now),
        language: Set("zh-CN".to_owned()),
    })
    .exec_without_returning(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::cli(),
            "operator.create",
            format!("account:{account_id}"),
        )
        .details(json!({"email": email.as_str()})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(account_id)
}

/// Sets the language of the account's mail and notifications (`zh-CN` or `en`), with its audit
/// entry. The portal also uses it for the pages of a signed-in person.
pub async fn set_language(
    db: &DatabaseConnection,
    principal: &Principal,
    language: &str,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<&'static str> {
    let language = parse_language(Some(language))?;
    let txn = begin_write(db).await?;
    accounts::Entity::update_many()
        .col_expr(
            accounts::Column::Language,
            sea_orm::sea_query::Expr::value(language),
        )
        .filter(accounts::Column::Id.eq(principal.account_id.as_str()))
        .exec(&txn)
        .await?;
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &actor,
            "account.language",
            format!("account:{}", principal.account_id),
        )
        .details(json!({ "language": language })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(language)
}

/// The language of an account's mail and notifications.
pub async fn language_of(db: &DatabaseConnection, principal: &Principal) -> DomainResult<String> {
    Ok(
        accounts::Entity::find_by_id(principal.account_id.to_string())
            .one(db)
            .await?
            .map_or_else(|| "zh-CN".to_owned(), |a| a.language),
    )
}
