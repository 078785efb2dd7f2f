//! Draw use cases: request ([`request`]), the public input ([`input`]), the invitations and the
//! walk down the ranking ([`invite`]), and what each role reads ([`view`]). Every change locks the
//! draw's row first, so answers arriving together are applied one after the other.

mod input;
mod invite;
mod request;
mod view;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use tenderhall_model::expert::draw::{Answer, SeatGroup, Seatable, rank};

pub use self::input::{contribute, fix_input};
pub use self::invite::{accept, decline, expire, withdraw_member};
pub use self::request::{DrawRequest, request_draw};
pub use self::view::{
    DrawView, ExclusionCount, InvitationView, Member, OwnInvitation, draw, finalize, invitation,
    my_invitations, proof,
};

use super::DrawSettings;
use super::store::{draw_candidates, draw_invitations, draws};
use crate::error::{DomainError, DomainResult};
use crate::keys::MasterKey;

/// What the draw use cases need besides the database.
#[derive(Clone, Copy)]
pub struct DrawContext<'a> {
    pub master: &'a MasterKey,
    pub settings: DrawSettings,
    /// The portal's address, for the links in invitations.
    pub public_url: &'a str,
}

/// The purpose a draw's secret is sealed under.
fn secret_context(draw_id: &str) -> String {
    format!("tenderhall/draw-secret/v1|{draw_id}")
}

/// The draw's secret, unsealed.
fn secret(master: &MasterKey, draw: &draws::Model) -> DomainResult<Vec<u8>> {
    master
        .unwrap(&draw.secret_sealed, &secret_context(&draw.id))
        .map_err(DomainError::internal)
}

/// A draw's row, locked for the rest of the transaction.
async fn lock(txn: &impl ConnectionTrait, draw_id: &str) -> DomainResult<draws::Model> {
    draws::Entity::find_by_id(draw_id.to_owned())
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Everything the walk down the ranking reads.
struct State {
    groups: Vec<SeatGroup>,
    eligible: Vec<String>,
    seatable: BTreeMap<String, Seatable>,
    answers: BTreeMap<String, Answer>,
}

async fn load_state(txn: &impl ConnectionTrait, draw: &draws::Model) -> DomainResult<State> {
    let groups: Vec<SeatGroup> =
        serde_json::from_str(&draw.seats).map_err(DomainError::internal)?;
    let rows: Vec<(String, String, String)> = draw_candidates::Entity::find()
        .select_only()
        .column(draw_candidates::Column::ExpertId)
        .column(draw_candidates::Column::Employer)
        .column(draw_candidates::Column::Fills)
        .filter(draw_candidates::Column::DrawId.eq(draw.id.clone()))
        .filter(draw_candidates::Column::Eligible.eq(true))
        .into_tuple()
        .all(txn)
        .await?;
    let mut eligible = Vec::with_capacity(rows.len());
    let mut seatable = BTreeMap::new();
    for (expert_id, employer, fills) in rows {
        let fills: Vec<usize> = serde_json::from_str(&fills).map_err(DomainError::internal)?;
        eligible.push(expert_id.clone());
        seatable.insert(
            expert_id.clone(),
            Seatable {
                expert_id,
                employer,
                fills,
            },
        );
    }
    eligible.sort_unstable();
    let invitations = draw_invitations::Entity::find()
        .filter(draw_invitations::Column::DrawId.eq(draw.id.clone()))
        .all(txn)
        .await?;
    let answers = invitations
        .iter()
        .filter_map(|i| Some((i.expert_id.clone(), Answer::parse(&i.status)?)))
        .collect();
    Ok(State {
        groups,
        eligible,
        seatable,
        answers,
    })
}

impl State {
    /// The ranking, once the public input is fixed.
    fn ranking(
        &self,
        master: &MasterKey,
        draw: &draws::Model,
    ) -> DomainResult<Option<Vec<String>>> {
        let Some(public_input) = &draw.public_input else {
            return Ok(None);
        };
        Ok(Some(rank(
            &secret(master, draw)?,
            public_input,
            &self.eligible,
        )))
    }
}

/// Seconds as a draw stores durations.
fn seconds(delta: chrono::TimeDelta) -> i64 {
    delta.num_seconds().max(1)
}

/// `now` as a day in China (UTC+8): the pool's dates (unavailable days, suspensions) are China's.
fn draw_day(now: DateTime<Utc>) -> chrono::NaiveDate {
    chrono::FixedOffset::east_opt(8 * 3600).map_or(now.date_naive(), |china| {
        now.with_timezone(&china).date_naive()
    })
}
