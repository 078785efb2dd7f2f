//! The operators' import of the pool's CSV (docs/guide-expert.md "Joining the pool"): each good row
//! creates an expert (with an account and an activation mail) or updates the one of its id; each bad
//! row is reported by line and changes nothing.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use tenderhall_model::expert::ExpertStatus;

use crate::account::Principal;
use crate::account::service::{random_token, token_hash};
use crate::account::store::queries as account_queries;
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult};
use crate::expert::import::{self, Rejected, Row};
use crate::expert::store::{expert_specialties, experts};
use crate::expert::{ACTIVATION_DAYS, Specialty};
use crate::id::AccountId;
use crate::jobs::service as jobs;
use crate::notify::{MailMessage, expert_activation, in_language, mail_job};
use crate::store::begin_write;
use crate::store::rows::Inserts;

/// Rows looked up per query while importing.
const CHUNK: usize = 500;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows written: new experts and experts updated.
    pub imported: u64,
    pub rejected: Vec<Rejected>,
}

/// Who imports: an operator over the API, or the server's console (`tenderhall experts import`).
#[derive(Debug, Clone, Copy)]
pub enum Importer<'a> {
    Operator(&'a Principal, Option<&'a str>),
    Console,
}

fn bad_file(en: impl Into<String>, zh: impl Into<String>) -> DomainError {
    DomainError::invalid("csv", en, zh)
}

/// Imports the pool's CSV ([`import`]): each good row creates an expert (with an account and an
/// activation mail) or updates the expert of its `expert_id`; each bad row is reported by line and
/// changes nothing. The good rows are written in one transaction.
pub async fn import_csv(
    db: &DatabaseConnection,
    by: Importer<'_>,
    csv: &[u8],
    public_url: &str,
    now: DateTime<Utc>,
) -> DomainResult<ImportReport> {
    if let Importer::Operator(principal, _) = by {
        principal.require_operator()?;
    }
    let (rows, mut rejected) = read_rows(csv)?;
    // What the database knows of the file's ids and emails.
    let mut known: HashMap<String, experts::Model> = HashMap::new();
    let ids: Vec<String> = rows.iter().map(|(_, r)| r.expert_id.clone()).collect();
    for chunk in ids.chunks(CHUNK) {
        for e in experts::Entity::find()
            .filter(experts::Column::Id.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            known.insert(e.id.clone(), e);
        }
    }
    let emails: Vec<String> = rows.iter().map(|(_, r)| r.email.clone()).collect();
    let owners = account_queries::email_owners(db, &emails).await?;
    let mut fresh = Vec::new();
    let mut updated = Vec::new();
    for (line, row) in rows {
        let owner = owners.get(&row.email);
        let taken = owner.is_some_and(|o| o.as_deref() != Some(row.expert_id.as_str()));
        if taken {
            rejected.push(Rejected {
                line,
                reason: format!(
                    "email {} belongs to another account: give the expert an address of their own",
                    row.email
                ),
            });
            continue;
        }
        match known.remove(&row.expert_id) {
            Some(existing) => updated.push((existing, row)),
            None => fresh.push(row),
        }
    }
    rejected.sort_by_key(|r| r.line);
    let imported = (fresh.len() + updated.len()) as u64;
    write_import(db, by, fresh, updated, &rejected, public_url, now).await?;
    Ok(ImportReport { imported, rejected })
}

/// Good rows with their lines, and the rows refused.
type Read = (Vec<(u64, Row)>, Vec<Rejected>);

/// Reads the file: the good rows with their lines, and the rows refused so far.
fn read_rows(csv: &[u8]) -> DomainResult<Read> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv);
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(e)) => {
            return Err(bad_file(
                format!("The header row is not readable as CSV ({e})."),
                format!("表头行无法按 CSV 读取（{e}）。"),
            ));
        }
        None => {
            return Err(bad_file(
                format!(
                    "The file is empty: it needs a header row `{}` and one row per expert.",
                    import::COLUMNS.join(",")
                ),
                format!(
                    "文件为空：需要表头行 `{}`，以及每位专家一行。",
                    import::COLUMNS.join(",")
                ),
            ));
        }
    };
    let at = import::columns(&header.iter().collect::<Vec<_>>()).map_err(|why| {
        bad_file(
            format!("The header row is not the pool's: {why}."),
            format!("表头行不符合专家库格式：{why}。"),
        )
    })?;
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    let mut ids: HashMap<String, u64> = HashMap::new();
    let mut emails: HashMap<String, u64> = HashMap::new();
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                rejected.push(Rejected {
                    line: e.position().map_or(0, csv::Position::line),
                    reason: format!("not readable as CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let fields: Vec<&str> = record.iter().collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let row = match import::parse_row(&fields, &at) {
            Ok(row) => row,
            Err(reason) => {
                rejected.push(Rejected { line, reason });
                continue;
            }
        };
        if let Some(first) = ids.get(&row.expert_id) {
            rejected.push(Rejected {
                line,
                reason: format!("expert_id {} is on line {first} already", row.expert_id),
            });
            continue;
        }
        if let Some(first) = emails.get(&row.email) {
            rejected.push(Rejected {
                line,
                reason: format!("email {} is on line {first} already", row.email),
            });
            continue;
        }
        ids.insert(row.expert_id.clone(), line);
        emails.insert(row.email.clone(), line);
        rows.push((line, row));
    }
    Ok((rows, rejected))
}

fn expert_row(
    row: &Row,
    account_id: &str,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> experts::ActiveModel {
    experts::ActiveModel {
        id: Set(row.expert_id.clone()),
        account_id: Set(account_id.to_owned()),
        name: Set(row.name.clone()),
        email: Set(row.email.clone()),
        region: Set(row.region.clone()),
        employer_credit_code: Set(row.employer.clone()),
        title: Set(row.title.clone()),
        years: Set(row.years),
        status: Set(ExpertStatus::Active.as_str().to_owned()),
        suspended_reason: Set(None),
        suspended_until: Set(None),
        signing_key_id: Set(None),
        signing_public_key: Set(None),
        created_at: Set(created_at),
        updated_at: Set(now),
    }
}

/// Writes an import's good rows in one transaction.
async fn write_import(
    db: &DatabaseConnection,
    by: Importer<'_>,
    fresh: Vec<Row>,
    updated: Vec<(experts::Model, Row)>,
    rejected: &[Rejected],
    public_url: &str,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let mut inserts = Inserts::new(&txn);
    let mut new_accounts = Vec::with_capacity(fresh.len());
    let mut new_experts = Vec::with_capacity(fresh.len());
    let mut resets = Vec::with_capacity(fresh.len());
    let mut mails = Vec::with_capacity(fresh.len());
    for row in &fresh {
        let account_id = AccountId::generate().to_string();
        new_accounts.push(account_queries::new_expert_account(
            &account_id,
            &row.email,
            &row.name,
            &row.expert_id,
            now,
        ));
        new_experts.push(expert_row(row, &account_id, now, now));
        let token = random_token("thr_")?;
        let hash = token_hash(&token);
        let link = format!(
            "{}/reset-password?token={token}",
            public_url.trim_end_matches('/')
        );
        let (subject, body) = expert_activation(&row.name, &link, ACTIVATION_DAYS);
        mails.push(
            mail_job(
                &MailMessage {
                    message_key: format!("activate_{}", &hash[..32]),
                    to: row.email.clone(),
                    subject: in_language(&subject, "zh-CN"),
                    body: in_language(&body, "zh-CN"),
                },
                now,
            )
            .map_err(DomainError::internal)?,
        );
        resets.push(crate::notify::store::queries::new_reset(
            hash,
            account_id,
            now,
            now + TimeDelta::days(ACTIVATION_DAYS),
        ));
    }
    inserts.add(new_accounts)?;
    inserts.add(new_experts)?;
    inserts.add(resets)?;
    let upserts: Vec<experts::ActiveModel> = updated
        .iter()
        .map(|(old, row)| {
            let mut model = expert_row(row, &old.account_id, old.created_at, now);
            // An import updates the profile; a suspension and a key stay as they are.
            model.status = Set(old.status.clone());
            model.suspended_reason = Set(old.suspended_reason.clone());
            model.suspended_until = Set(old.suspended_until);
            model.signing_key_id = Set(old.signing_key_id.clone());
            model.signing_public_key = Set(old.signing_public_key.clone());
            model
        })
        .collect();
    inserts.add_on_conflict(
        upserts,
        Some(
            OnConflict::column(experts::Column::Id)
                .update_columns([
                    experts::Column::Name,
                    experts::Column::Email,
                    experts::Column::Region,
                    experts::Column::EmployerCreditCode,
                    experts::Column::Title,
                    experts::Column::Years,
                    experts::Column::UpdatedAt,
                ])
                .to_owned(),
        ),
    )?;
    inserts.run(&txn).await?;
    for (old, row) in &updated {
        if old.email != row.email {
            account_queries::set_email(&txn, &old.account_id, &row.email).await?;
        }
    }
    // The specialties of updated experts are replaced.
    let updated_ids: Vec<String> = updated.iter().map(|(old, _)| old.id.clone()).collect();
    for chunk in updated_ids.chunks(CHUNK) {
        expert_specialties::Entity::delete_many()
            .filter(expert_specialties::Column::ExpertId.is_in(chunk.iter().cloned()))
            .exec(&txn)
            .await?;
    }
    let mut inserts = Inserts::new(&txn);
    let specialties = fresh
        .iter()
        .chain(updated.iter().map(|(_, row)| row))
        .flat_map(|row| {
            let codes: BTreeSet<&Specialty> = row.specialties.iter().collect();
            codes
                .into_iter()
                .map(|code| expert_specialties::ActiveModel {
                    expert_id: Set(row.expert_id.clone()),
                    specialty: Set(code.as_str().to_owned()),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    inserts.add(specialties)?;
    jobs::queue(&mut inserts, mails, now)?;
    let (actor, ip) = match by {
        Importer::Operator(principal, ip) => (principal.account_id.as_str(), ip),
        Importer::Console => ("console", None),
    };
    let entry = NewEntry::new(
        Chain::platform(),
        &Actor::account(actor, ip.map(str::to_owned)),
        "experts.import",
        "experts".to_owned(),
    )
    .details(json!({
        "created": fresh.len(),
        "updated": updated.len(),
        "rejected": rejected.len(),
    }));
    let tips =
        audit::lock_tips_of(&txn, std::slice::from_ref(&entry), audit::Tips::new(), now).await?;
    audit::queue(&mut inserts, vec![entry], tips, now)?;
    inserts.run(&txn).await?;
    txn.commit().await?;
    Ok(())
}
