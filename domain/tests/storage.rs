//! Storage on both databases (SQLite by default; PostgreSQL with `TENDERHALL_TEST_DATABASE_URL`):
//! exact money, WAL mode, and audit chains that stay whole under concurrent writers.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tenderhall_domain::audit::service::{Witnesses, verify_all};
use tenderhall_domain::audit::{Actor, Chain, NewEntry, store};
use tenderhall_domain::money::{Currency, Money};
use tenderhall_domain::store::{begin_write, connect, fresh_test_database_url, is_postgres};
use tenderhall_domain::time::{Clock, SystemClock};
use tenderhall_migrations::{Migrator, MigratorTrait};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

async fn fresh(dir: &tempfile::TempDir) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let db = connect(&fresh_test_database_url(dir.path()).await?).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

#[tokio::test]
async fn money_survives_a_round_trip_exactly_as_integer_fen_and_decimal_text() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = fresh(&dir).await?;
    db.execute_unprepared(
        "CREATE TABLE money_probe (id INTEGER PRIMARY KEY, fen BIGINT NOT NULL, amount_text TEXT NOT NULL, currency VARCHAR(3) NOT NULL)",
    )
    .await?;
    let backend = db.get_database_backend();
    let amounts = [
        "0.01",
        "0.30",
        "1234567.89",
        "800000.00",
        "9999999999999.99",
        "-0.01",
        "100000000.10",
    ];
    for (i, text) in amounts.iter().enumerate() {
        let money = Money::parse(text, Currency::Cny)?;
        let sql = match backend {
            DbBackend::Postgres => {
                "INSERT INTO money_probe (id, fen, amount_text, currency) VALUES ($1, $2, $3, $4)"
            }
            _ => "INSERT INTO money_probe (id, fen, amount_text, currency) VALUES (?, ?, ?, ?)",
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                (i as i64).into(),
                money.minor_units()?.into(),
                money.amount().to_string().into(),
                money.currency().code().into(),
            ],
        ))
        .await?;
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT fen, amount_text, currency FROM money_probe ORDER BY id",
        ))
        .await?;
    for (row, text) in rows.iter().zip(amounts) {
        let fen: i64 = row.try_get("", "fen")?;
        let amount_text: String = row.try_get("", "amount_text")?;
        let currency: String = row.try_get("", "currency")?;
        let expected = Money::parse(text, Currency::Cny)?;
        assert_eq!(
            Money::from_minor_units(fen, currency.parse()?),
            expected,
            "{text} as fen"
        );
        assert_eq!(
            Money::parse(&amount_text, currency.parse()?)?,
            expected,
            "{text} as text"
        );
        assert_eq!(amount_text, text);
    }
    assert_eq!(rows.len(), amounts.len());
    Ok(())
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = fresh(&dir).await?;
    if is_postgres(&db) {
        return Ok(());
    }
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA journal_mode",
        ))
        .await?
        .ok_or("no answer")?;
    let mode: String = row.try_get_by_index(0)?;
    assert_eq!(mode, "wal");
    Ok(())
}

#[tokio::test]
async fn art_49_concurrent_writers_on_one_chain_leave_it_whole() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = fresh(&dir).await?;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let txn = begin_write(&db).await?;
            let chain = if i % 3 == 0 {
                Chain::platform()
            } else {
                Chain::tender("t_concurrent")
            };
            store::append(
                &txn,
                NewEntry::new(chain, &Actor::system(), "test.append", format!("n:{i}")),
                SystemClock.now(),
            )
            .await?;
            txn.commit().await
        }));
    }
    for task in tasks {
        task.await??;
    }
    let keys = HashMap::new();
    let witnesses = Witnesses {
        platform_keys: &keys,
        store: None,
        kept: None,
    };
    let report = verify_all(&db, witnesses).await?;
    assert!(report.breaks.is_empty(), "{:?}", report.breaks);
    assert_eq!(report.entries, 24);
    assert_eq!(
        store::tip(&db, "tender:t_concurrent")
            .await?
            .map(|t| t.last_seq),
        Some(16)
    );
    Ok(())
}

#[tokio::test]
async fn an_append_rolled_back_with_its_change_leaves_no_trace() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = fresh(&dir).await?;
    let txn = begin_write(&db).await?;
    store::append(
        &txn,
        NewEntry::new(Chain::platform(), &Actor::system(), "test.append", "x"),
        SystemClock.now(),
    )
    .await?;
    txn.rollback().await?;
    assert!(store::tip(&db, "platform").await?.is_none());
    assert!(store::entry_at(&db, "platform", 1).await?.is_none());
    Ok(())
}

/// Rows written together (one statement of constant shape on PostgreSQL, `store::rows`) read back
/// exactly as rows written one at a time: times to the microsecond, NULLs, Chinese text; and the
/// key lists find exactly the rows they name. The ledger and the audit chain rely on it (a
/// journal entry's time, an audit entry's hash over its time).
#[tokio::test]
async fn rows_written_together_read_back_as_rows_written_one_by_one() -> TestResult {
    use chrono::TimeZone;
    use sea_orm::ActiveValue::Set;
    use sea_orm::{ActiveModelTrait, EntityTrait, QueryFilter, QueryOrder};
    use tenderhall_domain::deposit::store::{journal_entries, postings};
    use tenderhall_domain::store::rows::{Inserts, insert_all, is_in, pairs_in};

    let dir = tempfile::tempdir()?;
    let db = fresh(&dir).await?;
    // Nanoseconds the databases cannot keep: both ways must cut them alike.
    let at = chrono::Utc
        .with_ymd_and_hms(2026, 11, 29, 8, 30, 15)
        .single()
        .ok_or("time")?
        + chrono::TimeDelta::nanoseconds(123_456_789);
    let entry = |id: &str, tender: Option<&str>| journal_entries::ActiveModel {
        id: Set(id.to_owned()),
        at: Set(at),
        kind: Set("payment".to_owned()),
        tender_id: Set(tender.map(str::to_owned)),
        reference: Set(format!("ref-{id}")),
        memo: Set("某某建设有限公司 / 6222 0000 \"引号\" \\ 反斜杠".to_owned()),
    };
    entry("one", Some("tnd_1")).insert(&db).await?;
    insert_all(&db, vec![entry("two", Some("tnd_1")), entry("three", None)]).await?;
    let mut together = Inserts::new(&db);
    together.add(vec![entry("four", Some("tnd_2"))])?;
    together.add(vec![postings::ActiveModel {
        entry_id: Set("four".to_owned()),
        account: Set("bank".to_owned()),
        amount_fen: Set(i64::MAX),
        currency: Set("CNY".to_owned()),
        ..Default::default()
    }])?;
    together.run(&db).await?;

    let rows = journal_entries::Entity::find()
        .order_by_asc(journal_entries::Column::Reference)
        .all(&db)
        .await?;
    assert_eq!(rows.len(), 4);
    let one = rows.iter().find(|r| r.id == "one").ok_or("one")?;
    for row in &rows {
        assert_eq!(row.at, one.at, "{}: the time as stored one by one", row.id);
        assert_eq!(row.memo, one.memo, "{}", row.id);
    }
    assert_eq!(one.at.timestamp_subsec_micros(), 123_456);
    let three = rows.iter().find(|r| r.id == "three").ok_or("three")?;
    assert_eq!(three.tender_id, None);
    let posting = postings::Entity::find().one(&db).await?.ok_or("posting")?;
    assert_eq!(
        (posting.entry_id.as_str(), posting.amount_fen),
        ("four", i64::MAX)
    );

    // Rows that set different columns are refused, not half written.
    let mut odd = entry("five", None);
    odd.memo = sea_orm::ActiveValue::NotSet;
    let refused = insert_all(&db, vec![entry("six", None), odd]).await;
    if is_postgres(&db) {
        assert!(refused.is_err());
    }
    let backend = db.get_database_backend();
    let found = journal_entries::Entity::find()
        .filter(is_in(
            backend,
            journal_entries::Column::Id,
            vec!["two".into(), "four".into(), "nine".into()],
        ))
        .all(&db)
        .await?;
    let mut ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["four", "two"]);
    let found = journal_entries::Entity::find()
        .filter(pairs_in(
            backend,
            (
                journal_entries::Column::Id,
                journal_entries::Column::TenderId,
            ),
            vec![
                ("one".into(), "tnd_1".into()),
                ("four".into(), "tnd_1".into()),
                ("four".into(), "tnd_2".into()),
            ],
        ))
        .all(&db)
        .await?;
    let mut ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["four", "one"]);
    Ok(())
}

/// The bank notification intake's own pool plans each of its statements once: on PostgreSQL its
/// sessions use generic plans, where the platform's other sessions keep the default (planning the
/// batch read for each small batch took as long as running it, docs/performance.md); on SQLite,
/// which has no such setting, asking for that pool is an error that names the database.
#[tokio::test]
async fn the_notification_pool_uses_generic_plans_on_postgresql_only() -> TestResult {
    let dir = tempfile::tempdir()?;
    let url = fresh_test_database_url(dir.path()).await?;
    let main = connect(&url).await?;
    if !is_postgres(&main) {
        let refused = tenderhall_domain::store::connect_generic_plans(&url, 2)
            .await
            .err()
            .ok_or("a generic-plan pool on SQLite was opened")?;
        assert!(refused.to_string().contains("for PostgreSQL"), "{refused}");
        return Ok(());
    }
    let intake = tenderhall_domain::store::connect_generic_plans(&url, 2).await?;
    let mode = |db: DatabaseConnection| async move {
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SHOW plan_cache_mode",
            ))
            .await?
            .ok_or("SHOW answered no row")?;
        Ok::<String, Box<dyn std::error::Error + Send + Sync>>(row.try_get_by_index(0)?)
    };
    assert_eq!(mode(intake).await?, "force_generic_plan");
    assert_eq!(mode(main).await?, "auto");
    Ok(())
}
