//! Many rows in one statement whose text does not depend on how many.
//!
//! On PostgreSQL the rows travel as one JSON parameter (`json_populate_recordset` over the table's
//! own row type) and a list of keys as one array (`= ANY($1)`). A batch of 3 rows and one of 60 then
//! send the same statement: each connection prepares it once and the server plans it once, where
//! multi-row `VALUES` lists and `IN ($1, …, $n)` lists are a new statement for every size, parsed
//! and planned again (planning was a quarter of the server's time under bank notifications, see
//! docs/performance.md). SQLite is embedded: nothing travels and nothing is planned twice, so it
//! keeps sea-orm's multi-row INSERTs and IN lists.

use chrono::SecondsFormat;
use sea_orm::sea_query::ExprTrait;
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, Func, InsertStatement, IntoIden, OnConflict, Query,
    SimpleExpr, Value, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr,
    EntityName, EntityTrait, IdenStatic, Iterable, QueryTrait,
};

/// Rows per multi-row INSERT on SQLite: well inside its limit on bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// Inserts `rows` into their table. Every row must set the same columns; those it leaves unset take
/// their defaults (an auto-increment id).
pub async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
{
    let mut inserts = Inserts::new(db);
    inserts.add(rows)?;
    inserts.run(db).await
}

/// [`insert_all`] with an `ON CONFLICT` clause.
pub async fn insert_all_on_conflict<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    on_conflict: OnConflict,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
{
    let mut inserts = Inserts::new(db);
    inserts.add_on_conflict(rows, Some(on_conflict))?;
    inserts.run(db).await
}

/// Inserts gathered to reach the database together, for writes that wait for nothing read in
/// between: on PostgreSQL one statement (each insert but the last a `WITH` part of it), so a batch's
/// journal entries, postings and notifications cost one round trip; on SQLite one after the other.
pub struct Inserts {
    backend: DatabaseBackend,
    statements: Vec<InsertStatement>,
}

impl Inserts {
    pub fn new(db: &impl ConnectionTrait) -> Self {
        Self {
            backend: db.get_database_backend(),
            statements: Vec::new(),
        }
    }

    /// Adds `rows` (every row setting the same columns).
    pub fn add<A>(&mut self, rows: Vec<A>) -> Result<(), DbErr>
    where
        A: ActiveModelTrait,
    {
        self.add_on_conflict(rows, None)
    }

    pub fn add_on_conflict<A>(
        &mut self,
        rows: Vec<A>,
        on_conflict: Option<OnConflict>,
    ) -> Result<(), DbErr>
    where
        A: ActiveModelTrait,
    {
        if rows.is_empty() {
            return Ok(());
        }
        if self.backend == DatabaseBackend::Postgres {
            self.statements.push(json_insert(&rows, on_conflict)?);
            return Ok(());
        }
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let mut insert = A::Entity::insert_many(rows.by_ref().take(ROWS_PER_INSERT));
            if let Some(on_conflict) = &on_conflict {
                insert = insert.on_conflict(on_conflict.clone());
            }
            self.statements.push(insert.into_query());
        }
        Ok(())
    }

    /// Moves the inserts of `other` after these.
    pub fn append(&mut self, other: Self) {
        self.statements.extend(other.statements);
    }

    /// Writes everything gathered so far, for a read that must see it; more may be gathered after.
    pub async fn flush(&mut self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        let gathered = Self {
            backend: self.backend,
            statements: std::mem::take(&mut self.statements),
        };
        gathered.run(db).await
    }

    /// Writes everything gathered.
    pub async fn run(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        let mut statements = self.statements;
        let Some(last) = statements.pop() else {
            return Ok(());
        };
        if self.backend != DatabaseBackend::Postgres || statements.is_empty() {
            for statement in statements {
                db.execute(&statement).await?;
            }
            db.execute(&last).await?;
            return Ok(());
        }
        // Data-modifying WITH parts run whether or not the main statement reads them.
        let mut with = WithClause::new();
        for (i, statement) in statements.into_iter().enumerate() {
            with.cte(
                CommonTableExpression::new()
                    .query(statement)
                    .table_name(Alias::new(format!("w{i}")))
                    .to_owned(),
            );
        }
        db.execute(&last.with(with)).await?;
        Ok(())
    }
}

/// `INSERT INTO t (c…) SELECT c… FROM json_populate_recordset(NULL::t, $1::json) [ON CONFLICT …]`.
fn json_insert<A>(rows: &[A], on_conflict: Option<OnConflict>) -> Result<InsertStatement, DbErr>
where
    A: ActiveModelTrait,
{
    let entity = A::Entity::default();
    let columns: Vec<<A::Entity as EntityTrait>::Column> =
        <A::Entity as EntityTrait>::Column::iter()
            .filter(|c| is_set(&rows[0].get(*c)))
            .collect();
    // Each column's key, quoted once for every row.
    let keys: Vec<String> = columns
        .iter()
        .map(|c| serde_json::Value::from(c.as_str()).to_string())
        .collect();
    let mut json = String::with_capacity(rows.len() * 48 * columns.len());
    json.push('[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push('{');
        for column in <A::Entity as EntityTrait>::Column::iter() {
            let value = row.get(column);
            let position = columns.iter().position(|c| c.as_str() == column.as_str());
            match (value, position) {
                (ActiveValue::Set(value) | ActiveValue::Unchanged(value), Some(position)) => {
                    if position > 0 {
                        json.push(',');
                    }
                    json.push_str(&keys[position]);
                    json.push(':');
                    write_json(&mut json, &value, column.as_str())?;
                }
                (ActiveValue::NotSet, None) => {}
                _ => {
                    return Err(DbErr::Custom(format!(
                        "the rows for {} do not all set `{}`",
                        entity.table_name(),
                        column.as_str()
                    )));
                }
            }
        }
        json.push('}');
    }
    json.push(']');

    // The table's own row type gives every JSON field its column's type.
    let row_type = Expr::cust(format!("NULL::\"{}\"", entity.table_name()));
    let records = Func::cust(Alias::new("json_populate_recordset"))
        .arg(row_type)
        .arg(Expr::val(json).cast_as(Alias::new("json")));
    let mut select = Query::select();
    select
        .columns(columns.iter().map(|c| c.into_iden()))
        .from_function(records, Alias::new("r"));
    let mut insert = Query::insert();
    insert
        .into_table(entity)
        .columns(columns.iter().map(|c| c.into_iden()))
        .select_from(select)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    if let Some(on_conflict) = on_conflict {
        insert.on_conflict(on_conflict);
    }
    Ok(insert)
}

fn is_set(value: &ActiveValue<Value>) -> bool {
    matches!(value, ActiveValue::Set(_) | ActiveValue::Unchanged(_))
}

/// Writes a value as `json_populate_recordset` reads it back into its column's type. Times keep
/// microseconds, cut as sqlx cuts them, so a stored time is the same whichever way it was written.
fn write_json(out: &mut String, value: &Value, column: &str) -> Result<(), DbErr> {
    use std::fmt::Write;
    fn number(out: &mut String, v: Option<impl std::fmt::Display>) {
        match v {
            Some(v) => {
                let _ = write!(out, "{v}");
            }
            None => out.push_str("null"),
        }
    }
    fn text(out: &mut String, v: Option<&str>) -> Result<(), DbErr> {
        match v {
            // Escaped as serde_json escapes, straight into the statement's text.
            Some(v) => {
                out.push_str(&serde_json::to_string(v).map_err(|e| DbErr::Custom(e.to_string()))?)
            }
            None => out.push_str("null"),
        }
        Ok(())
    }
    match value {
        Value::Bool(v) => number(out, *v),
        Value::TinyInt(v) => number(out, *v),
        Value::SmallInt(v) => number(out, *v),
        Value::Int(v) => number(out, *v),
        Value::BigInt(v) => number(out, *v),
        Value::TinyUnsigned(v) => number(out, *v),
        Value::SmallUnsigned(v) => number(out, *v),
        Value::Unsigned(v) => number(out, *v),
        Value::BigUnsigned(v) => number(out, *v),
        Value::String(v) => text(out, v.as_deref())?,
        Value::Char(v) => text(out, v.map(|c| c.to_string()).as_deref())?,
        Value::Json(v) => match v.as_deref() {
            Some(v) => out.push_str(&v.to_string()),
            None => out.push_str("null"),
        },
        Value::ChronoDateTimeUtc(v) => text(
            out,
            v.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
                .as_deref(),
        )?,
        Value::ChronoDate(v) => text(out, v.map(|d| d.to_string()).as_deref())?,
        Value::Decimal(v) => text(out, v.map(|d| d.to_string()).as_deref())?,
        Value::Uuid(v) => text(out, v.map(|u| u.to_string()).as_deref())?,
        other => {
            return Err(DbErr::Custom(format!(
                "column `{column}`: {other:?} cannot be written as JSON rows"
            )));
        }
    }
    Ok(())
}

/// `column IN (values)`: `column = ANY($1)` with one array on PostgreSQL.
pub fn is_in<C>(backend: DatabaseBackend, column: C, values: Vec<String>) -> SimpleExpr
where
    C: ColumnTrait,
{
    if backend == DatabaseBackend::Postgres {
        Expr::col((column.entity_name(), column)).eq(PgFunc::any(Expr::val(values)))
    } else {
        column.is_in(values)
    }
}

/// `(a, b) IN ((x, y), …)`: over two arrays zipped by `UNNEST` on PostgreSQL.
pub fn pairs_in<C>(
    backend: DatabaseBackend,
    (a, b): (C, C),
    pairs: Vec<(String, String)>,
) -> SimpleExpr
where
    C: ColumnTrait,
{
    let columns = Expr::tuple([Expr::col(a), Expr::col(b)]);
    if backend == DatabaseBackend::Postgres {
        let (xs, ys): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
        let zipped = Func::cust(Alias::new("UNNEST"))
            .arg(Expr::val(xs))
            .arg(Expr::val(ys));
        columns.in_subquery(
            Query::select()
                .expr(Expr::cust("*"))
                .from_function(zipped, Alias::new("p"))
                .to_owned(),
        )
    } else {
        columns.is_in(
            pairs
                .into_iter()
                .map(|(x, y)| Expr::tuple([Expr::val(x), Expr::val(y)])),
        )
    }
}
