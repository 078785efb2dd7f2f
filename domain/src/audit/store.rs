//! Audit persistence: appending inside the caller's transaction, reading chains back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{Entry, GENESIS_HASH, NewEntry, entry_hash};
use crate::canonical::to_canonical_string;
use crate::store::rows::{Inserts, is_in};

pub mod chains {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_chains")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub chain: String,
        pub last_seq: i64,
        pub last_hash: String,
        pub signed_seq: i64,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod entries {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_entries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub chain: String,
        pub seq: i64,
        pub at: ChronoDateTimeUtc,
        pub actor: Option<String>,
        pub ip: Option<String>,
        pub action: String,
        pub object: String,
        pub details: String,
        pub withheld_until: Option<ChronoDateTimeUtc>,
        pub prev_hash: String,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod heads {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_heads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        pub signed_at: ChronoDateTimeUtc,
        pub body: String,
        pub digest: String,
        pub key_id: String,
        pub signature: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl From<entries::Model> for Entry {
    fn from(m: entries::Model) -> Self {
        Self {
            chain: m.chain,
            seq: m.seq,
            at: m.at,
            actor: m.actor,
            ip: m.ip,
            action: m.action,
            object: m.object,
            details: m.details,
            withheld_until: m.withheld_until,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

/// Appends `new` to its chain inside the caller's transaction `txn`, so the entry commits or rolls
/// back with the change it records. The chain's tip row is locked (PostgreSQL `FOR UPDATE`; SQLite
/// write transactions are already exclusive), so concurrent appends to one chain queue.
pub async fn append(
    txn: &impl ConnectionTrait,
    new: NewEntry,
    at: DateTime<Utc>,
) -> Result<Entry, DbErr> {
    append_many(txn, vec![new], at)
        .await?
        .pop()
        .ok_or_else(|| DbErr::Custom("audit append wrote nothing".to_owned()))
}

/// Appends several entries, in order, in one go: the chains' tips are locked together, in the
/// order of their names, and moved in one statement.
pub async fn append_many(
    txn: &impl ConnectionTrait,
    news: Vec<NewEntry>,
    at: DateTime<Utc>,
) -> Result<Vec<Entry>, DbErr> {
    let tips = lock_tips_of(txn, &news, Tips::new(), at).await?;
    let mut inserts = Inserts::new(txn);
    let written = queue(&mut inserts, news, tips, at)?;
    inserts.run(txn).await?;
    Ok(written)
}

/// Chain tips by name, `(last_seq, last_hash)`, as locked in the current transaction.
pub type Tips = HashMap<String, (i64, String)>;

/// The tips of the chains `news` append to, locked: those in `locked` (read `FOR UPDATE` earlier in
/// this transaction, as the bank intake's lock-and-read does) are taken as they are, the others
/// are locked here, in name order.
pub async fn lock_tips_of(
    txn: &impl ConnectionTrait,
    news: &[NewEntry],
    locked: Tips,
    at: DateTime<Utc>,
) -> Result<Tips, DbErr> {
    let mut names: Vec<String> = news.iter().map(|n| n.chain.as_str().to_owned()).collect();
    names.sort();
    names.dedup();
    let mut tips: Tips = locked
        .into_iter()
        .filter(|(chain, _)| names.binary_search(chain).is_ok())
        .collect();
    let missing: Vec<String> = names
        .iter()
        .filter(|name| !tips.contains_key(*name))
        .cloned()
        .collect();
    if !missing.is_empty() {
        // After the caller's locks, so not in name order across both (the platform chain of a
        // suspense payment after a tender's): should that meet a transaction holding them the
        // other way round, PostgreSQL breaks the deadlock by failing one, which changes nothing.
        tips.extend(lock_or_create_tips(txn, &missing, at).await?);
    }
    Ok(tips)
}

/// Chains `news` onto `tips` (locked by [`lock_tips_of`]) and adds the entries and the tips'
/// moves to `inserts`, which the caller runs with its own rows in one statement. Nothing is
/// written until it does; the entries returned are the ones it will write.
pub fn queue(
    inserts: &mut Inserts,
    news: Vec<NewEntry>,
    mut tips: Tips,
    at: DateTime<Utc>,
) -> Result<Vec<Entry>, DbErr> {
    if news.is_empty() {
        return Ok(Vec::new());
    }
    let mut written = Vec::with_capacity(news.len());
    for new in news {
        let chain = new.chain.as_str().to_owned();
        let (last_seq, last_hash) = tips
            .get_mut(&chain)
            .ok_or_else(|| DbErr::RecordNotFound(format!("audit chain {chain}")))?;
        let mut entry = Entry {
            chain,
            seq: *last_seq + 1,
            at,
            actor: new.actor.id,
            ip: new.actor.ip,
            action: new.action.to_owned(),
            object: new.object,
            details: to_canonical_string(&new.details),
            withheld_until: new.withheld_until,
            prev_hash: std::mem::take(last_hash),
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        *last_seq = entry.seq;
        last_hash.clone_from(&entry.hash);
        written.push(entry);
    }
    let rows = written.iter().map(|entry| entries::ActiveModel {
        chain: Set(entry.chain.clone()),
        seq: Set(entry.seq),
        at: Set(entry.at),
        actor: Set(entry.actor.clone()),
        ip: Set(entry.ip.clone()),
        action: Set(entry.action.clone()),
        object: Set(entry.object.clone()),
        details: Set(entry.details.clone()),
        withheld_until: Set(entry.withheld_until),
        prev_hash: Set(entry.prev_hash.clone()),
        hash: Set(entry.hash.clone()),
        ..Default::default()
    });
    inserts.add(rows.collect())?;
    // Every tip moved (the rows exist and are locked: this only updates).
    let tips = tips
        .into_iter()
        .map(|(chain, (last_seq, last_hash))| chains::ActiveModel {
            chain: Set(chain),
            last_seq: Set(last_seq),
            last_hash: Set(last_hash),
            signed_seq: Set(0),
            updated_at: Set(at),
        });
    inserts.add_on_conflict(
        tips.collect(),
        Some(
            OnConflict::column(chains::Column::Chain)
                .update_columns([
                    chains::Column::LastSeq,
                    chains::Column::LastHash,
                    chains::Column::UpdatedAt,
                ])
                .to_owned(),
        ),
    )?;
    Ok(written)
}

/// PostgreSQL: the tips of the chains named by the SQL expression `chains` (a subquery), locked
/// in name order, as a `WITH` part of a statement of another area that reads its own rows under
/// those locks in the same round trip (the bank intake's lock-and-read). It yields
/// `chain, last_seq, last_hash`; [`tips_as_json_sql`] reads them back.
pub fn lock_tips_sql(chains: &str) -> String {
    format!(
        "SELECT c.chain, c.last_seq, c.last_hash FROM audit_chains c \
         WHERE c.chain IN ({chains}) ORDER BY c.chain FOR UPDATE"
    )
}

/// The tips locked by the `WITH` part `locked` ([`lock_tips_sql`]) as one JSON array of
/// `[chain, last_seq, last_hash, seen]`, where `seen` is the tip as the statement's snapshot saw
/// it: where the two differ, another transaction moved the tip before the lock was granted.
pub fn tips_as_json_sql(locked: &str) -> String {
    format!(
        "(SELECT CAST(json_agg(json_build_array(l.chain, l.last_seq, l.last_hash, s.last_seq)) AS TEXT) \
         FROM {locked} l LEFT JOIN audit_chains s ON s.chain = l.chain)"
    )
}

/// The tips of `names` (sorted), locked in that order; a chain's first entry creates its tip.
pub async fn lock_or_create_tips(
    txn: &impl ConnectionTrait,
    names: &[String],
    at: DateTime<Utc>,
) -> Result<Tips, DbErr> {
    let tips = lock_tips(txn, names).await?;
    if tips.len() == names.len() {
        return Ok(tips);
    }
    chains::Entity::insert_many(names.iter().filter(|name| !tips.contains_key(*name)).map(
        |chain| chains::ActiveModel {
            chain: Set(chain.clone()),
            last_seq: Set(0),
            last_hash: Set(GENESIS_HASH.to_owned()),
            signed_seq: Set(0),
            updated_at: Set(at),
        },
    ))
    .on_conflict(
        OnConflict::column(chains::Column::Chain)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    lock_tips(txn, names).await
}

/// The tips of `names` (sorted), locked in that order, so two appends never wait on each other in
/// a cycle.
async fn lock_tips(txn: &impl ConnectionTrait, names: &[String]) -> Result<Tips, DbErr> {
    Ok(chains::Entity::find()
        .filter(is_in(
            txn.get_database_backend(),
            chains::Column::Chain,
            names.to_vec(),
        ))
        .order_by_asc(chains::Column::Chain)
        .lock_exclusive()
        .all(txn)
        .await?
        .into_iter()
        .map(|tip| (tip.chain, (tip.last_seq, tip.last_hash)))
        .collect())
}

/// Up to `limit` entries of `chain` after `after_seq`, in order.
pub async fn entries_after(
    db: &impl ConnectionTrait,
    chain: &str,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<Entry>, DbErr> {
    Ok(entries::Entity::find()
        .filter(entries::Column::Chain.eq(chain))
        .filter(entries::Column::Seq.gt(after_seq))
        .order_by_asc(entries::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Entry::from)
        .collect())
}

/// Every chain name that has a tip or an entry (an entry whose tip row was deleted still counts).
pub async fn chain_names(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let mut names: Vec<String> = chains::Entity::find()
        .select_only()
        .column(chains::Column::Chain)
        .into_tuple()
        .all(db)
        .await?;
    let from_entries: Vec<String> = entries::Entity::find()
        .select_only()
        .column(entries::Column::Chain)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    names.extend(from_entries);
    names.sort();
    names.dedup();
    Ok(names)
}

pub async fn tip(db: &impl ConnectionTrait, chain: &str) -> Result<Option<chains::Model>, DbErr> {
    chains::Entity::find_by_id(chain.to_owned()).one(db).await
}

pub async fn entry_at(
    db: &impl ConnectionTrait,
    chain: &str,
    seq: i64,
) -> Result<Option<Entry>, DbErr> {
    Ok(entries::Entity::find()
        .filter(entries::Column::Chain.eq(chain))
        .filter(entries::Column::Seq.eq(seq))
        .one(db)
        .await?
        .map(Entry::from))
}

/// The first head signed after `at`: the draw's public input when nobody contributed one
/// (docs/spec/draws.md "Public input").
pub async fn first_head_after(
    db: &impl ConnectionTrait,
    at: DateTime<Utc>,
) -> Result<Option<heads::Model>, DbErr> {
    heads::Entity::find()
        .filter(heads::Column::SignedAt.gt(at))
        .order_by_asc(heads::Column::Seq)
        .one(db)
        .await
}
