//! The holiday calendar as stored, seeded once with 2026, edited by operators.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder};
use serde::Serialize;
use serde_json::json;

use crate::account::{Principal, parse_name};
use crate::audit::{Actor, Chain, NewEntry, store as audit};
use crate::error::DomainResult;
use crate::store::begin_write;
use crate::tender::calendar::{HolidayCalendar, china_2026};
use crate::tender::input::invalid;
use crate::tender::store::calendar_days;

/// The holiday calendar as stored.
pub async fn load_calendar(db: &impl ConnectionTrait) -> DomainResult<HolidayCalendar> {
    let rows = calendar_days::Entity::find().all(db).await?;
    let holidays = rows.iter().filter(|r| r.kind == "holiday").map(|r| r.day);
    let workdays = rows.iter().filter(|r| r.kind == "workday").map(|r| r.day);
    Ok(HolidayCalendar::new(holidays, workdays))
}

/// The end of `period` from `at` for a tender run with `accelerator` (`earliest_deadline`),
/// working days counted on the stored holiday calendar, which is read only for them.
pub async fn period_end(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
    period: crate::tender::procedure::Period,
    accelerator: u32,
) -> DomainResult<DateTime<Utc>> {
    let calendar = match period {
        crate::tender::procedure::Period::WorkingDays(_) => load_calendar(db).await?,
        crate::tender::procedure::Period::Days(_) => HolidayCalendar::default(),
    };
    Ok(crate::tender::earliest_deadline(
        at,
        period,
        accelerator,
        &calendar,
    ))
}

/// A day of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarDay {
    pub day: NaiveDate,
    /// `holiday` or `workday` (a make-up working day).
    pub kind: String,
    pub name: String,
}

pub async fn calendar_days(db: &DatabaseConnection) -> DomainResult<Vec<CalendarDay>> {
    Ok(calendar_days::Entity::find()
        .order_by_asc(calendar_days::Column::Day)
        .all(db)
        .await?
        .into_iter()
        .map(|r| CalendarDay {
            day: r.day,
            kind: r.kind,
            name: r.name,
        })
        .collect())
}

/// Fills an empty calendar with China's 2026 arrangement, once, however many nodes start at the
/// same moment: the seed's audit entry is appended first, and its lock on the platform chain makes
/// the other nodes wait and then find the calendar filled.
pub async fn seed_calendar(db: &DatabaseConnection, now: DateTime<Utc>) -> DomainResult<()> {
    if calendar_days::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let (holidays, workdays) = china_2026();
    let txn = begin_write(db).await?;
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &Actor::system(),
            "calendar.seed",
            "calendar:2026",
        ),
        now,
    )
    .await?;
    if calendar_days::Entity::find().count(&txn).await? > 0 {
        txn.rollback().await?;
        return Ok(());
    }
    for (days, kind, name) in [
        (holidays, "holiday", "法定节假日"),
        (workdays, "workday", "调休上班"),
    ] {
        for day in days {
            calendar_days::Entity::insert(calendar_days::ActiveModel {
                day: Set(day),
                kind: Set(kind.to_owned()),
                name: Set(name.to_owned()),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// An operator marks a day as a holiday or a make-up working day (`kind`), or clears it (`None`).
pub async fn set_calendar_day(
    db: &DatabaseConnection,
    principal: &Principal,
    day: NaiveDate,
    entry: Option<(&str, &str)>,
    ip: Option<String>,
    now: DateTime<Utc>,
) -> DomainResult<()> {
    principal.require_operator()?;
    let txn = begin_write(db).await?;
    calendar_days::Entity::delete_by_id(day).exec(&txn).await?;
    if let Some((kind, name)) = entry {
        if !matches!(kind, "holiday" | "workday") {
            return Err(invalid(
                "kind",
                "`kind` is `holiday` or `workday` (a make-up working day).",
                "`kind` 须为 `holiday`（节假日）或 `workday`（调休上班）。",
            ));
        }
        let name = parse_name("name", name, 100)?;
        calendar_days::Entity::insert(calendar_days::ActiveModel {
            day: Set(day),
            kind: Set(kind.to_owned()),
            name: Set(name),
            updated_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    let actor = Actor::account(principal.account_id.as_str(), ip);
    audit::append(
        &txn,
        NewEntry::new(
            Chain::platform(),
            &actor,
            "calendar.set",
            format!("calendar:{day}"),
        )
        .details(json!({"kind": entry.map(|e| e.0)})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
