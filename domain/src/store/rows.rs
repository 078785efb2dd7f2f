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
    let mut json = String::with_capacity(rows.len() * 64 * columns.len());
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
                    json.push_str(&serde_json::Value::from(column.as_str()).to_string());
                    json.push(':');
                    json.push_str(&to_json(&value, column.as_str())?.to_string());
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

/// A value as `json_populate_recordset` reads it back into its column's type. Times keep
/// microseconds, cut as sqlx cuts them, so a stored time is the same whichever way it was written.
fn to_json(value: &Value, column: &str) -> Result<serde_json::Value, DbErr> {
    use serde_json::Value as J;
    Ok(match value {
        Value::Bool(v) => v.map_or(J::Null, J::from),
        Value::TinyInt(v) => v.map_or(J::Null, J::from),
        Value::SmallInt(v) => v.map_or(J::Null, J::from),
        Value::Int(v) => v.map_or(J::Null, J::from),
        Value::BigInt(v) => v.map_or(J::Null, J::from),
        Value::TinyUnsigned(v) => v.map_or(J::Null, J::from),
        Value::SmallUnsigned(v) => v.map_or(J::Null, J::from),
        Value::Unsigned(v) => v.map_or(J::Null, J::from),
        Value::BigUnsigned(v) => v.map_or(J::Null, J::from),
        Value::String(v) => v.as_deref().map_or(J::Null, J::from),
        Value::Char(v) => v.map_or(J::Null, |c| J::from(c.to_string())),
        Value::Json(v) => v.as_deref().cloned().unwrap_or(J::Null),
        Value::ChronoDateTimeUtc(v) => v.map_or(J::Null, |t| {
            J::from(t.to_rfc3339_opts(SecondsFormat::Micros, true))
        }),
        Value::ChronoDate(v) => v.map_or(J::Null, |d| J::from(d.to_string())),
        Value::Decimal(v) => v.map_or(J::Null, |d| J::from(d.to_string())),
        Value::Uuid(v) => v.map_or(J::Null, |u| J::from(u.to_string())),
        other => {
            return Err(DbErr::Custom(format!(
                "column `{column}`: {other:?} cannot be written as JSON rows"
            )));
        }
    })
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
