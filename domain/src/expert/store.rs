//! Persistence of the expert pool: experts, their specialties, unavailable days and declared
//! relationships; `queries` holds what the draw asks of them.

pub mod experts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "experts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub account_id: String,
        pub name: String,
        pub email: String,
        pub region: String,
        pub employer_credit_code: String,
        pub title: String,
        pub years: i32,
        pub status: String,
        pub suspended_reason: Option<String>,
        pub suspended_until: Option<Date>,
        pub signing_key_id: Option<String>,
        pub signing_public_key: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod expert_specialties {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "expert_specialties")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub expert_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub specialty: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod expert_unavailable {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "expert_unavailable")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub expert_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: Date,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod expert_relations {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "expert_relations")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub expert_id: String,
        /// `former_employer` or `relative_employer`.
        pub kind: String,
        pub credit_code: String,
        /// The day the expert left a former employer.
        pub ended_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The questions the draw asks of the pool.
pub mod queries {
    use std::collections::{BTreeSet, HashMap};

    use chrono::NaiveDate;
    use sea_orm::sea_query::Condition;
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
    use tenderhall_model::expert::{Candidate, Specialty};

    use super::{expert_relations, expert_specialties, expert_unavailable, experts};
    use crate::error::DomainResult;
    use crate::expert::{FORMER_EMPLOYER, RELATIVE_EMPLOYER};

    /// Ids looked up per query.
    const CHUNK: usize = 500;

    /// The names of experts by id, in the order given (an unknown id stands for itself).
    pub async fn names(db: &impl ConnectionTrait, ids: &[String]) -> DomainResult<Vec<String>> {
        let found: HashMap<String, String> = experts::Entity::find()
            .filter(experts::Column::Id.is_in(ids.iter().cloned()))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e.name))
            .collect();
        Ok(ids
            .iter()
            .map(|id| found.get(id).cloned().unwrap_or_else(|| id.clone()))
            .collect())
    }

    /// An expert's registered signing key: its id and the raw public key in base64.
    pub async fn signing_key(
        db: &impl ConnectionTrait,
        expert_id: &str,
    ) -> DomainResult<Option<(String, String)>> {
        Ok(super::experts::Entity::find_by_id(expert_id.to_owned())
            .one(db)
            .await?
            .and_then(|e| Some((e.signing_key_id?, e.signing_public_key?))))
    }

    /// Every expert of the pool with a specialty that fills one of `wanted` (the code or one within
    /// it), as the avoidance rules read it on the day `on`: its specialties, region, employer,
    /// suspension, whether `on` is one of its unavailable days, and its declared relationships.
    /// The count of recent committees is left at 0 for the draw to fill in.
    pub async fn candidates(
        db: &impl ConnectionTrait,
        wanted: &[Specialty],
        on: NaiveDate,
    ) -> DomainResult<Vec<Candidate>> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut matches = Condition::any();
        for code in wanted {
            matches = matches
                .add(expert_specialties::Column::Specialty.eq(code.as_str()))
                .add(expert_specialties::Column::Specialty.like(format!("{}.%", code.as_str())));
        }
        let ids: BTreeSet<String> = expert_specialties::Entity::find()
            .select_only()
            .column(expert_specialties::Column::ExpertId)
            .distinct()
            .filter(matches)
            .into_tuple::<String>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let ids: Vec<String> = ids.into_iter().collect();
        let mut pool = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let chunk: Vec<String> = chunk.to_vec();
            let mut specialties: HashMap<String, Vec<Specialty>> = HashMap::new();
            for (id, code) in expert_specialties::Entity::find()
                .select_only()
                .column(expert_specialties::Column::ExpertId)
                .column(expert_specialties::Column::Specialty)
                .filter(expert_specialties::Column::ExpertId.is_in(chunk.clone()))
                .into_tuple::<(String, String)>()
                .all(db)
                .await?
            {
                if let Some(code) = Specialty::parse(&code) {
                    specialties.entry(id).or_default().push(code);
                }
            }
            let away: BTreeSet<String> = expert_unavailable::Entity::find()
                .select_only()
                .column(expert_unavailable::Column::ExpertId)
                .filter(expert_unavailable::Column::ExpertId.is_in(chunk.clone()))
                .filter(expert_unavailable::Column::Day.eq(on))
                .into_tuple::<String>()
                .all(db)
                .await?
                .into_iter()
                .collect();
            let mut relations: HashMap<String, Vec<expert_relations::Model>> = HashMap::new();
            for r in expert_relations::Entity::find()
                .filter(expert_relations::Column::ExpertId.is_in(chunk.clone()))
                .all(db)
                .await?
            {
                relations.entry(r.expert_id.clone()).or_default().push(r);
            }
            for e in experts::Entity::find()
                .filter(experts::Column::Id.is_in(chunk))
                .all(db)
                .await?
            {
                let declared = relations.remove(&e.id).unwrap_or_default();
                pool.push(Candidate {
                    specialties: specialties.remove(&e.id).unwrap_or_default(),
                    region: e.region,
                    employer: e.employer_credit_code,
                    suspended_until: e.suspended_until.filter(|_| e.status == "suspended"),
                    unavailable: if away.contains(&e.id) {
                        BTreeSet::from([on])
                    } else {
                        BTreeSet::new()
                    },
                    former_employers: declared
                        .iter()
                        .filter(|r| r.kind == FORMER_EMPLOYER)
                        .filter_map(|r| Some((r.credit_code.clone(), r.ended_on?)))
                        .collect(),
                    relatives_employers: declared
                        .iter()
                        .filter(|r| r.kind == RELATIVE_EMPLOYER)
                        .map(|r| r.credit_code.clone())
                        .collect(),
                    recent_evaluations_for_tenderer: 0,
                    expert_id: e.id,
                });
            }
        }
        Ok(pool)
    }
}
