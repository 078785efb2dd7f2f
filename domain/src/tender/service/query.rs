//! Reading tenders: the view everyone gets, one tender, and the public list.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::account::Principal;
use crate::error::{DomainError, DomainResult};
use crate::id::{TenderId, is_valid_id};
use crate::money::{Currency, Money};
use crate::tender::input::{LotInput, TenderInput, invalid};
use crate::tender::procedure::{AwardMethod, Kind, Procedure};
use crate::tender::store::{lots, tenders};
use crate::tender::{LotStatus, TenderStatus};

/// A lot as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub id: String,
    pub title: String,
    pub budget: Money,
    pub deposit: Money,
    pub price_ceiling: Option<Money>,
    pub status: LotStatus,
    /// The X25519 key bids for this lot are sealed to, from publication on.
    pub opening_key: Option<OpeningKey>,
    /// An auction lot's terms, without the reserve (docs/auctions.md).
    pub auction: Option<crate::tender::auction::PublicTerms>,
}

/// A lot's opening public key as published: raw 32 bytes in base64, and its key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningKey {
    pub public_key: String,
    pub key_id: String,
}

/// A tender with its lots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tender {
    pub id: String,
    pub owner_org_id: String,
    pub tenderer_org_id: String,
    pub agency_org_id: Option<String>,
    /// The current mandate (委托代理) its agency holds from its tenderer; without one the agency
    /// no longer acts for the tender.
    pub agency_mandate: Option<String>,
    pub title: String,
    pub kind: Kind,
    pub procedure: Procedure,
    pub award_method: AwardMethod,
    pub lots: Vec<Lot>,
    pub document_fee: Money,
    pub bid_deadline: DateTime<Utc>,
    pub bid_validity_days: u32,
    pub opening_fields: Vec<String>,
    pub accelerator: u32,
    pub status: TenderStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The evaluation set-up (docs/spec/evaluation.md).
    pub evaluation: Option<crate::tender::input::SetupInput>,
    /// GB/T 2260 division code.
    pub region: Option<crate::tender::region::Region>,
}

impl Tender {
    pub(crate) fn from_rows(
        t: tenders::Model,
        lot_rows: Vec<lots::Model>,
        agency_mandate: Option<String>,
    ) -> DomainResult<Self> {
        let currency: Currency = t.currency.parse().map_err(DomainError::internal)?;
        let bad = |what: &str| DomainError::internal(format!("tender {} has a bad {what}", t.id));
        let mut lots = Vec::with_capacity(lot_rows.len());
        for l in lot_rows {
            lots.push(Lot {
                id: l.lot_id,
                title: l.title,
                budget: Money::from_minor_units(l.budget_fen, currency),
                deposit: Money::from_minor_units(l.deposit_fen, currency),
                price_ceiling: l
                    .price_ceiling_fen
                    .map(|f| Money::from_minor_units(f, currency)),
                status: LotStatus::parse(&l.status).ok_or_else(|| bad("lot status"))?,
                opening_key: l
                    .opening_public_key
                    .map(|public_key| -> DomainResult<OpeningKey> {
                        let raw = base64::engine::general_purpose::STANDARD
                            .decode(&public_key)
                            .map_err(|_| bad("opening key"))?;
                        Ok(OpeningKey {
                            key_id: crate::keys::key_id(&raw),
                            public_key,
                        })
                    })
                    .transpose()?,
                auction: l
                    .auction
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|_| bad("auction terms"))?,
            });
        }
        Ok(Self {
            kind: t.kind.parse().map_err(|_| bad("kind"))?,
            procedure: t.procedure.parse().map_err(|_| bad("procedure"))?,
            award_method: t.award_method.parse().map_err(|_| bad("award method"))?,
            status: TenderStatus::parse(&t.status).ok_or_else(|| bad("status"))?,
            opening_fields: serde_json::from_str(&t.opening_fields)
                .map_err(|_| bad("opening fields"))?,
            document_fee: Money::from_minor_units(t.document_fee_fen, currency),
            bid_validity_days: u32::try_from(t.bid_validity_days).map_err(|_| bad("validity"))?,
            accelerator: u32::try_from(t.accelerator).map_err(|_| bad("accelerator"))?,
            evaluation: t
                .evaluation
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| bad("evaluation set-up"))?,
            region: t
                .region
                .as_deref()
                .map(crate::tender::region::Region::parse)
                .transpose()
                .map_err(|_| bad("region"))?,
            lots,
            id: t.id,
            owner_org_id: t.owner_org_id,
            tenderer_org_id: t.tenderer_org_id,
            agency_org_id: t.agency_org_id,
            agency_mandate,
            title: t.title,
            bid_deadline: t.bid_deadline,
            published_at: t.published_at,
            cancelled_at: t.cancelled_at,
            cancel_reason: t.cancel_reason,
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
    }

    /// The draft's input again, to apply a patch to, or to check before publication.
    pub fn to_input(&self) -> TenderInput {
        TenderInput {
            title: self.title.clone(),
            kind: self.kind.as_str().to_owned(),
            procedure: self.procedure.as_str().to_owned(),
            award_method: self.award_method.as_str().to_owned(),
            lots: self
                .lots
                .iter()
                .map(|l| LotInput {
                    id: l.id.clone(),
                    title: l.title.clone(),
                    budget: l.budget.into(),
                    deposit: l.deposit.into(),
                    price_ceiling: l.price_ceiling.map(Into::into),
                    auction: l
                        .auction
                        .as_ref()
                        .map(|a| a.to_input(self.document_fee.currency())),
                })
                .collect(),
            document_fee: Some(self.document_fee.into()),
            bid_deadline: self.bid_deadline,
            bid_validity_days: Some(self.bid_validity_days),
            opening_fields: Some(self.opening_fields.clone()),
            accelerator: Some(self.accelerator),
            tenderer_id: None,
            evaluation: self.evaluation.clone(),
            region: self.region.as_ref().map(|r| r.as_str().to_owned()),
        }
    }

    /// The organizations that own the tender: the tenderer it is for, and its agency while the
    /// agency holds the tenderer's current mandate.
    pub fn is_owned_by(&self, principal: &Principal) -> bool {
        principal.is_member_of(&self.tenderer_org_id)
            || (self.acted_for_by(principal) && self.agency_mandate.is_some())
    }

    /// Whether `principal` belongs to the tender's agency (mandated or not).
    pub fn acted_for_by(&self, principal: &Principal) -> bool {
        self.agency_org_id
            .as_deref()
            .is_some_and(|a| principal.is_member_of(a))
    }
}

pub(crate) async fn load(db: &impl ConnectionTrait, id: &str) -> DomainResult<Option<Tender>> {
    let Some(t) = tenders::Entity::find_by_id(id.to_owned()).one(db).await? else {
        return Ok(None);
    };
    let lot_rows = lots::Entity::find()
        .filter(lots::Column::TenderId.eq(id))
        .order_by_asc(lots::Column::Position)
        .all(db)
        .await?;
    let mandate = match &t.agency_org_id {
        Some(agency) => crate::mandate::store::current(db, &t.tenderer_org_id, agency)
            .await?
            .map(|m| m.id),
        None => None,
    };
    Tender::from_rows(t, lot_rows, mandate).map(Some)
}

/// A tender as `viewer` may see it: published ones for anyone, a draft for its owners alone.
pub async fn get(
    db: &DatabaseConnection,
    viewer: Option<&Principal>,
    tender: &TenderId,
) -> DomainResult<Tender> {
    let tender = load(db, tender.as_str())
        .await?
        .ok_or(DomainError::NotFound)?;
    if tender.published_at.is_none() && !viewer.is_some_and(|p| tender.is_owned_by(p)) {
        return Err(DomainError::NotFound);
    }
    Ok(tender)
}

/// Filters of the public list.
#[derive(Debug, Clone, Default)]
pub struct TenderFilter {
    pub kind: Option<Kind>,
    pub procedure: Option<Procedure>,
    pub status: Option<TenderStatus>,
    /// Tenders in this division or any inside it.
    pub region: Option<crate::tender::region::Region>,
    /// Words in the title.
    pub q: Option<String>,
    /// The caller's own tenders, drafts included.
    pub mine: bool,
}

/// A page of tenders and the cursor of the next.
#[derive(Debug, Clone)]
pub struct TenderPage {
    pub items: Vec<Tender>,
    pub next_cursor: Option<String>,
}

fn encode_cursor(t: &Tender) -> String {
    let at = t.published_at.unwrap_or(t.created_at);
    URL_SAFE_NO_PAD.encode(format!("{}|{}", at.timestamp_micros(), t.id))
}

fn decode_cursor(cursor: &str) -> DomainResult<(DateTime<Utc>, String)> {
    let bad = || {
        invalid(
            "cursor",
            "`cursor` must be a `next_cursor` from a previous page.",
            "`cursor` 须为上一页返回的 `next_cursor`。",
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (micros, id) = text.split_once('|').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    if !is_valid_id(id) {
        return Err(bad());
    }
    Ok((at, id.to_owned()))
}

/// Published tenders, newest publication first (or, with `mine`, the caller's own, newest first,
/// drafts included), filtered and paged by cursor.
pub async fn list(
    db: &DatabaseConnection,
    viewer: Option<&Principal>,
    filter: &TenderFilter,
    cursor: Option<&str>,
    limit: u64,
) -> DomainResult<TenderPage> {
    let order_col = if filter.mine {
        tenders::Column::CreatedAt
    } else {
        tenders::Column::PublishedAt
    };
    let mut query = tenders::Entity::find();
    if filter.mine {
        let Some(org) = viewer
            .and_then(|p| p.membership.as_ref())
            .map(|m| m.organization_id.to_string())
        else {
            return Err(DomainError::Unauthenticated);
        };
        // Its own tenders, and as an agency those of the tenderers that mandate it now.
        let mandating = crate::mandate::store::tenderers_mandating(db, &org).await?;
        query = query.filter(
            Condition::any()
                .add(tenders::Column::TendererOrgId.eq(org.clone()))
                .add(
                    Condition::all()
                        .add(tenders::Column::AgencyOrgId.eq(org))
                        .add(tenders::Column::TendererOrgId.is_in(mandating)),
                ),
        );
    } else {
        query = query.filter(tenders::Column::PublishedAt.is_not_null());
    }
    if let Some(kind) = filter.kind {
        query = query.filter(tenders::Column::Kind.eq(kind.as_str()));
    }
    if let Some(procedure) = filter.procedure {
        query = query.filter(tenders::Column::Procedure.eq(procedure.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(tenders::Column::Status.eq(status.as_str()));
    }
    if let Some(region) = &filter.region {
        // Digits only, so the prefix needs no escaping.
        query = query.filter(tenders::Column::Region.starts_with(region.prefix()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped: String = q
            .to_lowercase()
            .chars()
            .flat_map(|c| {
                if matches!(c, '%' | '_' | '\\') {
                    vec!['\\', c]
                } else {
                    vec![c]
                }
            })
            .collect();
        let pattern = format!("%{escaped}%");
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(tenders::Column::Title)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')),
        );
    }
    if let Some(cursor) = cursor {
        let (at, id) = decode_cursor(cursor)?;
        query = query.filter(
            Condition::any().add(order_col.lt(at)).add(
                Condition::all()
                    .add(order_col.eq(at))
                    .add(tenders::Column::Id.lt(id)),
            ),
        );
    }
    let rows = query
        .order_by_desc(order_col)
        .order_by_desc(tenders::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    let mut items = Vec::with_capacity(rows.len());
    let page: Vec<tenders::Model> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    // One query for the lots of the whole page, not one per tender.
    let mut lot_rows = lots::Entity::find()
        .filter(lots::Column::TenderId.is_in(page.iter().map(|t| t.id.clone())))
        .order_by_asc(lots::Column::TenderId)
        .order_by_asc(lots::Column::Position)
        .all(db)
        .await?;
    let pairs: Vec<(String, String)> = page
        .iter()
        .filter_map(|t| Some((t.tenderer_org_id.clone(), t.agency_org_id.clone()?)))
        .collect();
    let mandates = crate::mandate::store::current_among(db, &pairs).await?;
    for t in page {
        let (mine, rest): (Vec<_>, Vec<_>) =
            lot_rows.into_iter().partition(|l| l.tender_id == t.id);
        lot_rows = rest;
        let mandate = t
            .agency_org_id
            .clone()
            .and_then(|a| mandates.get(&(t.tenderer_org_id.clone(), a)).cloned());
        items.push(Tender::from_rows(t, mine, mandate)?);
    }
    let next_cursor = if more {
        items.last().map(encode_cursor)
    } else {
        None
    };
    Ok(TenderPage { items, next_cursor })
}
