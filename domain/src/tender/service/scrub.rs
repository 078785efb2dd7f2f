//! The scrub: every stored object a record points to is read back and its SHA-256 checked, so
//! that rot or tampering in the store is found while the record is young, not when a supervisor
//! replays a tender years later. It runs daily in quiet hours (03:00 China Standard Time) as a job,
//! and on demand with `tenderhall documents scrub`.

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainResult, Text};
use crate::jobs::{NewJob, service as jobs};
use crate::notify::service::notify;
use crate::ports::{DocumentStore, StoreError};
use crate::store::begin_write;
use crate::tender::china_time;
use crate::tender::store::documents;

pub const SCRUB_JOB: &str = "documents.scrub";
const BATCH: u64 = 200;

/// A stored object that failed its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrubFinding {
    pub sha256: String,
    /// The documents that point to it (tender and document ids).
    pub documents: Vec<(String, String)>,
    /// `corrupted`, `missing` or `unreadable`.
    pub problem: &'static str,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrubReport {
    pub objects_checked: u64,
    pub bytes_checked: u64,
    pub findings: Vec<ScrubFinding>,
}

/// The next scrub after `after`: 03:00 China Standard Time.
pub fn next_scrub_time(after: DateTime<Utc>) -> DateTime<Utc> {
    let local = after.with_timezone(&china_time());
    let at_three = |date: chrono::NaiveDate| {
        china_time()
            .from_local_datetime(&date.and_time(NaiveTime::MIN + chrono::TimeDelta::hours(3)))
            .single()
            .map(|t| t.with_timezone(&Utc))
    };
    let today = at_three(local.date_naive());
    match today {
        Some(t) if t > after => t,
        _ => local
            .date_naive()
            .checked_add_days(Days::new(1))
            .and_then(at_three)
            .unwrap_or(after + chrono::TimeDelta::days(1)),
    }
}

/// The scrub job for the next 03:00 after `after`, once however many nodes ask (its key is its
/// day).
pub fn scrub_job(after: DateTime<Utc>) -> NewJob {
    let at = next_scrub_time(after);
    let day = at.with_timezone(&china_time()).date_naive();
    NewJob::new(SCRUB_JOB, json!({}), at, format!("{SCRUB_JOB}:{day}"))
}

/// Makes sure a scrub is scheduled (at start-up of a worker).
pub async fn schedule_scrub(db: &DatabaseConnection, now: DateTime<Utc>) -> DomainResult<()> {
    jobs::enqueue(db, scrub_job(now), now).await?;
    Ok(())
}

/// Checks every stored object that a document points to. Findings are written to the platform's
/// audit chain and told to every operator; the report comes back to the caller.
pub async fn scrub(
    db: &DatabaseConnection,
    store: &dyn DocumentStore,
    now: DateTime<Utc>,
) -> DomainResult<ScrubReport> {
    let mut report = ScrubReport::default();
    let mut after = String::new();
    loop {
        // Distinct objects in name order, a batch at a time: memory stays flat with the archive.
        let batch: Vec<String> = documents::Entity::find()
            .select_only()
            .column(documents::Column::Sha256)
            .distinct()
            .filter(documents::Column::Sha256.gt(after.as_str()))
            .order_by_asc(documents::Column::Sha256)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.clone();
        for sha256 in batch {
            report.objects_checked += 1;
            let (problem, detail) = match store.verify(&sha256).await {
                Ok(stored) => {
                    report.bytes_checked += stored.size;
                    continue;
                }
                Err(e @ StoreError::Corrupted { .. }) => ("corrupted", e.to_string()),
                Err(e @ StoreError::NotFound(_)) => ("missing", e.to_string()),
                Err(e) => ("unreadable", e.to_string()),
            };
            let documents = documents::Entity::find()
                .filter(documents::Column::Sha256.eq(sha256.as_str()))
                .all(db)
                .await?
                .into_iter()
                .map(|d| (d.tender_id, d.id))
                .collect();
            report.findings.push(ScrubFinding {
                sha256,
                documents,
                problem,
                detail,
            });
        }
    }
    record(db, &report, now).await?;
    Ok(report)
}

async fn record(
    db: &DatabaseConnection,
    report: &ScrubReport,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    let txn = begin_write(db).await?;
    let findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "sha256": f.sha256,
                "problem": f.problem,
                "detail": f.detail,
                "documents": f.documents.iter().map(|(t, d)| json!({"tender_id": t, "document_id": d})).collect::<Vec<_>>(),
            })
        })
        .collect();
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::system(),
            "documents.scrub",
            "documents",
        )
        .details(json!({
            "objects_checked": report.objects_checked,
            "bytes_checked": report.bytes_checked,
            "findings": findings,
        })),
        now,
    )
    .await?;
    if !report.findings.is_empty() {
        let list: Vec<String> = report
            .findings
            .iter()
            .map(|f| format!("{} ({})", f.sha256, f.problem))
            .collect();
        let list = list.join(", ");
        let message = (
            Text::new(
                "Document store check found damaged objects",
                "文件存储校验发现受损对象",
            ),
            Text::new(
                format!(
                    "{} of {} stored objects failed their SHA-256 check: {list}. Restore them from backup; the platform refuses to serve them until then.",
                    report.findings.len(),
                    report.objects_checked
                ),
                format!(
                    "{} 个存储对象中有 {} 个未通过 SHA-256 校验：{list}。请从备份恢复；恢复前平台不会提供这些文件。",
                    report.objects_checked,
                    report.findings.len()
                ),
            ),
        );
        let operators = crate::account::store::queries::operators(&txn).await?;
        for operator in &operators {
            notify(&txn, operator, "documents.scrub", None, &message, true, now).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrub_runs_at_three_in_the_morning_china_time() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc));
        let (Ok(before), Ok(after), Ok(three)) = (
            t("2026-11-28T01:00:00+08:00"),
            t("2026-11-28T03:00:00+08:00"),
            t("2026-11-28T03:00:00+08:00"),
        ) else {
            panic!("bad test times");
        };
        assert_eq!(next_scrub_time(before), three);
        assert_eq!(next_scrub_time(after), three + chrono::TimeDelta::days(1));
        assert_eq!(
            scrub_job(before).idempotency_key,
            "documents.scrub:2026-11-28"
        );
    }
}
