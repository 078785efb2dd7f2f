//! Job use cases: enqueue inside a change's transaction, claim with a lease, finish, retry.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{LockBehavior, LockType, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::store::jobs;
use super::{JobStatus, NewJob, backoff};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::{DomainError, DomainResult, ErrorCode};
use crate::id::JobId;
use crate::store::begin_write;

/// A job as a worker or an operator sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: Value,
    pub run_at: DateTime<Utc>,
    pub status: JobStatus,
    pub attempts: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
    pub leased_by: Option<String>,
    pub idempotency_key: String,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<jobs::Model> for Job {
    type Error = DomainError;
    fn try_from(m: jobs::Model) -> DomainResult<Self> {
        Ok(Self {
            payload: serde_json::from_str(&m.payload).map_err(DomainError::internal)?,
            status: JobStatus::parse(&m.status).ok_or_else(|| {
                DomainError::internal(format!("job {} has status {}", m.id, m.status))
            })?,
            attempts: u32::try_from(m.attempts).unwrap_or(0),
            max_attempts: u32::try_from(m.max_attempts).unwrap_or(1),
            id: m.id,
            kind: m.kind,
            run_at: m.run_at,
            last_error: m.last_error,
            leased_by: m.leased_by,
            idempotency_key: m.idempotency_key,
            created_at: m.created_at,
            finished_at: m.finished_at,
        })
    }
}

/// A job's row, as first stored.
fn row(job: NewJob, now: DateTime<Utc>) -> jobs::ActiveModel {
    jobs::ActiveModel {
        id: Set(JobId::generate().to_string()),
        kind: Set(job.kind.to_owned()),
        payload: Set(job.payload.to_string()),
        run_at: Set(job.run_at),
        status: Set(JobStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        max_attempts: Set(i32::try_from(job.max_attempts).unwrap_or(i32::MAX)),
        last_error: Set(None),
        lease_until: Set(None),
        leased_by: Set(None),
        idempotency_key: Set(job.idempotency_key),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    }
}

/// Adds `job` inside the caller's transaction; a job with the same idempotency key is kept and
/// this one dropped. True when it was added.
pub async fn enqueue(
    txn: &impl ConnectionTrait,
    job: NewJob,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = jobs::Entity::insert(row(job, now))
        .on_conflict(
            OnConflict::column(jobs::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(inserted > 0)
}

/// [`enqueue`] for many jobs, added to `inserts` to be written with the caller's other rows (an
/// import's activation mails).
pub fn queue(
    inserts: &mut crate::store::rows::Inserts,
    jobs_to_add: Vec<NewJob>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    inserts.add_on_conflict(
        jobs_to_add.into_iter().map(|job| row(job, now)).collect(),
        Some(
            OnConflict::column(jobs::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        ),
    )
}

fn due(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(jobs::Column::Status.eq(JobStatus::Pending.as_str()))
                .add(jobs::Column::RunAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(jobs::Column::Status.eq(JobStatus::Running.as_str()))
                .add(jobs::Column::LeaseUntil.lt(now)),
        )
}

/// Claims the most overdue job for `worker` until `now + lease`. On PostgreSQL the row is taken
/// with `FOR UPDATE SKIP LOCKED`, so workers on several machines never take the same job at once;
/// SQLite's write transactions are exclusive.
pub async fn claim(
    db: &DatabaseConnection,
    worker: &str,
    now: DateTime<Utc>,
    lease: Duration,
) -> DomainResult<Option<Job>> {
    let txn = begin_write(db).await?;
    let Some(row) = jobs::Entity::find()
        .filter(due(now))
        .order_by_asc(jobs::Column::RunAt)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .one(&txn)
        .await?
    else {
        txn.rollback().await?;
        return Ok(None);
    };
    let lease_until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::seconds(60));
    let claimed = jobs::Entity::update(jobs::ActiveModel {
        id: Set(row.id.clone()),
        status: Set(JobStatus::Running.as_str().to_owned()),
        attempts: Set(row.attempts + 1),
        lease_until: Set(Some(lease_until)),
        leased_by: Set(Some(worker.to_owned())),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Job::try_from(claimed).map(Some)
}

/// Marks a claimed job done. A worker whose lease was taken over finishes nothing.
pub async fn complete(
    db: &DatabaseConnection,
    job: &Job,
    worker: &str,
    now: DateTime<Utc>,
) -> DomainResult<bool> {
    let result = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, JobStatus::Done.as_str().into())
        .col_expr(jobs::Column::FinishedAt, Some(now).into())
        .col_expr(jobs::Column::UpdatedAt, now.into())
        .col_expr(
            jobs::Column::LeaseUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .filter(jobs::Column::Id.eq(job.id.clone()))
        .filter(jobs::Column::LeasedBy.eq(worker))
        .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

fn jitter() -> f64 {
    let mut byte = [0u8; 1];
    let _ = SystemRandom::new().fill(&mut byte);
    f64::from(byte[0]) / 255.0
}

/// Records a failure: the job is retried after a backoff, or becomes `dead` after its last attempt.
pub async fn fail(
    db: &DatabaseConnection,
    job: &Job,
    worker: &str,
    error: &str,
    now: DateTime<Utc>,
) -> DomainResult<JobStatus> {
    let dead = job.attempts >= job.max_attempts;
    let status = if dead {
        JobStatus::Dead
    } else {
        JobStatus::Pending
    };
    let retry_at = now
        + TimeDelta::from_std(backoff(job.attempts, jitter())).unwrap_or(TimeDelta::seconds(60));
    let error: String = error.chars().take(2000).collect();
    jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, status.as_str().into())
        .col_expr(jobs::Column::LastError, Some(error).into())
        .col_expr(
            jobs::Column::RunAt,
            (if dead { job.run_at } else { retry_at }).into(),
        )
        .col_expr(
            jobs::Column::LeaseUntil,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(jobs::Column::UpdatedAt, now.into())
        .filter(jobs::Column::Id.eq(job.id.clone()))
        .filter(jobs::Column::LeasedBy.eq(worker))
        .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .exec(db)
        .await?;
    Ok(status)
}

/// When a worker must look again: the earliest pending `run_at` or running lease end.
pub async fn next_wake(db: &DatabaseConnection) -> DomainResult<Option<DateTime<Utc>>> {
    let pending: Option<DateTime<Utc>> = jobs::Entity::find()
        .select_only()
        .column(jobs::Column::RunAt)
        .filter(jobs::Column::Status.eq(JobStatus::Pending.as_str()))
        .order_by_asc(jobs::Column::RunAt)
        .into_tuple()
        .one(db)
        .await?;
    let lease: Option<Option<DateTime<Utc>>> = jobs::Entity::find()
        .select_only()
        .column(jobs::Column::LeaseUntil)
        .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .order_by_asc(jobs::Column::LeaseUntil)
        .into_tuple()
        .one(db)
        .await?;
    Ok(match (pending, lease.flatten()) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

/// Jobs for operators, newest first, optionally of one status.
pub async fn list(
    db: &DatabaseConnection,
    status: Option<JobStatus>,
    limit: u64,
) -> DomainResult<Vec<Job>> {
    let mut query = jobs::Entity::find()
        .order_by_desc(jobs::Column::Id)
        .limit(limit);
    if let Some(status) = status {
        query = query.filter(jobs::Column::Status.eq(status.as_str()));
    }
    query
        .all(db)
        .await?
        .into_iter()
        .map(Job::try_from)
        .collect()
}

/// An operator sends a dead job back to the queue, due now, with its attempts reset.
pub async fn retry(
    db: &DatabaseConnection,
    job: &JobId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> DomainResult<Job> {
    let id = job.as_str();
    let txn = begin_write(db).await?;
    let row = jobs::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if row.status != JobStatus::Dead.as_str() {
        return Err(DomainError::Refused {
            code: ErrorCode::JobNotDead,
            message: crate::error::Text::new(
                format!(
                    "Job {id} is {}: only dead jobs are retried by hand.",
                    row.status
                ),
                format!(
                    "任务 {id} 状态为 {}：只有失败终止的任务可以手动重试。",
                    row.status
                ),
            ),
        });
    }
    let updated = jobs::Entity::update(jobs::ActiveModel {
        id: Set(row.id.clone()),
        status: Set(JobStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        run_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    audit::append(
        &txn,
        NewEntry::new(Chain::platform(), actor, "job.retry", format!("job:{id}"))
            .details(json!({"kind": row.kind, "last_error": row.last_error})),
        now,
    )
    .await?;
    txn.commit().await?;
    Job::try_from(updated)
}
