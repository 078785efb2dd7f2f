//! Database connections for both backends, and the conversion of their errors.
//!
//! SQLite runs in WAL mode and every write transaction begins IMMEDIATE, so concurrent writers
//! queue on the busy timeout instead of failing halfway with SQLITE_BUSY. PostgreSQL needs nothing
//! special here; row locks are taken where a rule needs one.

pub mod rows;

use std::time::Duration;

use sea_orm::sqlx::postgres::PgSslMode;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// A unique constraint the domain answers when a write loses a race to a concurrent request:
/// PostgreSQL reports its name, SQLite only its columns (`UNIQUE constraint failed: t.a, t.b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unique {
    pub name: &'static str,
    pub columns: &'static str,
}

/// The unique constraints whose violations mean something to the rules.
pub mod unique {
    use super::Unique;

    /// One account per email address.
    pub const ACCOUNT_EMAIL: Unique = Unique {
        name: "accounts_email_key",
        columns: "accounts.email",
    };
    /// A bank transaction is recorded once.
    pub const BANK_TXN_ID: Unique = Unique {
        name: "bank_notifications_pkey",
        columns: "bank_notifications.bank_txn_id",
    };
    /// One active registration per organization and lot.
    pub const ACTIVE_REGISTRATION: Unique = Unique {
        name: "idx_registrations_active_org_lot",
        columns: "registrations.tender_id, registrations.lot_id, registrations.organization_id",
    };
    /// One guarantee per registration.
    pub const GUARANTEE_PER_REGISTRATION: Unique = Unique {
        name: "guarantees_registration_id_key",
        columns: "guarantees.registration_id",
    };
    /// One current mandate per tenderer and agency.
    pub const CURRENT_MANDATE: Unique = Unique {
        name: "idx_agency_mandates_current",
        columns: "agency_mandates.tenderer_org_id, agency_mandates.agency_org_id",
    };
}

/// Whether `e` is the violation of `constraint`, by name on PostgreSQL and by columns on SQLite:
/// the one place a database error is read for its meaning.
pub fn violates(e: &DbErr, constraint: Unique) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = e else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db) = e.as_ref() else {
        return false;
    };
    match db.constraint() {
        Some(name) => name == constraint.name,
        None => db
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .is_some_and(|columns| columns == constraint.columns),
    }
}

impl crate::error::DomainError {
    /// Whether this is the database refusing a write that violates `constraint`.
    pub fn violates(&self, constraint: Unique) -> bool {
        matches!(self, Self::Database(e) if violates(e, constraint))
    }
}

impl From<DbErr> for crate::error::DomainError {
    fn from(e: DbErr) -> Self {
        Self::Database(e)
    }
}

/// Opens a pool on `url` (`sqlite://...` or `postgres://...`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    open(url, 16, false).await
}

/// Opens a PostgreSQL pool of at most `connections` whose sessions plan each prepared statement
/// once (`plan_cache_mode = force_generic_plan`), for the bank notification intake. Its statements
/// keep one text whatever the batch's size (`rows`): keys as one array, rows as one JSON value, every
/// lookup by key. Left to its default, PostgreSQL plans such a statement anew for every execution
/// whose batch is smaller than the ten keys it assumes for an unknown array, since the plan for the
/// known keys then looks cheaper; the plan is the same and planning the batch's read took as long as
/// running it (0.5–0.9 ms against 0.7–1.0 ms for 20 accounts, docs/performance.md). The setting
/// travels in the connection's startup packet: no statement, no round trip.
pub async fn connect_generic_plans(
    url: &str,
    connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    if !url.starts_with("postgres") {
        return Err(DbErr::Custom(format!(
            "a pool with generic plans is for PostgreSQL, not {}",
            redact_url(url)
        )));
    }
    open(url, connections, true).await
}

async fn open(
    url: &str,
    connections: u32,
    generic_plans: bool,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        // A ping on every checkout is a round trip per transaction; only a connection idle long
        // enough to have been dropped by the server or a firewall is checked first.
        .test_before_acquire_if_idle_for(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        options.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a receipt or a credit must survive a power cut once committed.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
        });
    } else {
        // Room for every statement the platform sends, so each is parsed once per connection (the
        // batches of `rows` keep one shape whatever their size; other IN lists vary).
        let plain = loopback_without_tls(url);
        options
            .max_connections(connections)
            .map_sqlx_postgres_opts(move |o| {
                let mut o = o.statement_cache_capacity(512);
                if generic_plans {
                    o = o.options([("plan_cache_mode", "force_generic_plan")]);
                }
                if plain {
                    o.ssl_mode(PgSslMode::Disable)
                } else {
                    o
                }
            });
    }
    Database::connect(options).await
}

/// Whether a PostgreSQL URL names this machine and leaves TLS to the default ("prefer"): such a
/// connection goes without TLS. Encrypting loopback traffic protects nothing, and sqlx 0.9.0 does not
/// set TCP_NODELAY (upstream issue 4335, fixed after that release), so a statement longer than one
/// TLS record (16 KiB, a batch of audit entries) is sent as two writes and the second waits 40 ms
/// for the server's delayed acknowledgement. An operator who sets `sslmode` (in the URL or
/// `PGSSLMODE`) gets exactly that.
pub fn loopback_without_tls(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    // The host of a `postgres:` URL is opaque to the url crate: an address stays text.
    let host = parsed.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let tls_chosen = parsed
        .query_pairs()
        .any(|(k, _)| k.eq_ignore_ascii_case("sslmode"))
        || std::env::var_os("PGSSLMODE").is_some();
    loopback && !tls_chosen
}

/// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, a plain transaction on PostgreSQL.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Postgres
}

/// Renders a database URL for logs: the password, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Fresh, empty databases for tests: a new SQLite file under `dir`, or, when
/// `TENDERHALL_TEST_DATABASE_URL` names a PostgreSQL server, a new database on it (named
/// `th_test_…` so a CI run can drop them afterwards). Returns the URL to connect to.
pub async fn fresh_test_database_url(dir: &std::path::Path) -> Result<String, DbErr> {
    match std::env::var("TENDERHALL_TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("th_test_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(admin_url.as_str()).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await?;
            admin.close().await?;
            Ok(replace_database_name(&admin_url, &name))
        }
        _ => Ok(format!(
            "sqlite://{}?mode=rwc",
            dir.join("tenderhall.sqlite3").display()
        )),
    }
}

/// `url` with its database replaced by `name`, its parameters (`?sslmode=...`) kept.
pub fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://./x.sqlite3"), "sqlite://./x.sqlite3");
    }

    #[test]
    fn the_test_database_replaces_the_path_and_keeps_the_query() {
        assert_eq!(
            replace_database_name("postgres://postgres@127.0.0.1:5432/test", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            replace_database_name("postgres://p@h/test?sslmode=disable", "t1"),
            "postgres://p@h/t1?sslmode=disable"
        );
        assert_eq!(
            replace_database_name("postgres://p@h", "t1"),
            "postgres://p@h/t1"
        );
    }

    #[test]
    fn loopback_databases_go_without_tls_unless_the_url_asks_for_it() {
        assert!(loopback_without_tls(
            "postgres://postgres@127.0.0.1:5432/test"
        ));
        assert!(loopback_without_tls("postgres://u:p@localhost/db"));
        assert!(loopback_without_tls("postgresql://u@[::1]:5432/db"));
        assert!(!loopback_without_tls(
            "postgres://u@127.0.0.1/db?sslmode=require"
        ));
        assert!(!loopback_without_tls(
            "postgres://u@127.0.0.1/db?sslmode=prefer"
        ));
        assert!(!loopback_without_tls("postgres://u@db.internal:5432/db"));
        assert!(!loopback_without_tls("postgres://u@10.0.0.5/db"));
    }
}
