//! Live auctions over HTTP (docs/spec/api-contract.md "Auctions", docs/auctions.md): the state
//! anyone reads, a bid as a plain POST, the seller's increment, the signed record and the
//! confirmation of the sale.

use axum::Json;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::auction::{self, AcceptedBid, AuctionView};
use tenderhall_domain::error::{ErrorCode, Text};
use tenderhall_domain::id::{LotId, TenderId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use super::tenders::{MoneyRequest, MoneyResponse};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, ClientIp, MaybeAuth};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_auction))
        .routes(routes!(place_bid))
        .routes(routes!(change_increment))
        .routes(routes!(auction_record))
        .routes(routes!(confirmation))
        .routes(routes!(live))
}

/// A lot's auction terms as every view of the tender shows them: the reserve never, only whether
/// one is set (docs/auctions.md "The terms in the tender").
#[derive(Debug, Serialize, ToSchema)]
pub struct AuctionTermsResponse {
    /// `listing`, `english`, `dutch`, `reverse`.
    pub form: String,
    pub start_price: MoneyResponse,
    /// An amount in yuan, or for `reverse` a percentage.
    pub increment: String,
    pub countdown_seconds: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_end: Option<DateTime<Utc>>,
    pub reserve_set: bool,
}

impl AuctionTermsResponse {
    pub fn of(
        a: tenderhall_domain::tender::auction::PublicTerms,
        currency: tenderhall_domain::money::Currency,
    ) -> Self {
        Self {
            form: a.form.as_str().to_owned(),
            start_price: MoneyResponse {
                amount: a.start_price.to_string(),
                currency: currency.code().to_owned(),
            },
            increment: a.increment.to_string(),
            countdown_seconds: a.countdown_seconds,
            listing_end: a.listing_end,
            reserve_set: a.reserve_set,
        }
    }
}

/// A lot's auction terms in `POST /api/v1/tenders` (documented shape; parsed by the domain).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct AuctionTermsRequest {
    /// `listing` (procedure `listing`), `english` or `dutch` (`auction`), `reverse` (`reverse_auction`).
    pub form: String,
    pub start_price: MoneyRequest,
    /// An amount above zero; for `reverse` a percentage under 100 (`"0.5"` = 0.5 %).
    pub increment: String,
    /// Sealed to the lot's opening key at publication, revealed only at the close.
    pub reserve_price: Option<MoneyRequest>,
    /// 10 to 3,600; default 300.
    pub countdown_seconds: Option<u32>,
    /// A listing's close, at least 10 days after the bid deadline for land and mining rights.
    pub listing_end: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuctionBidResponse {
    pub seq: i64,
    pub pseudonym: String,
    pub amount: String,
    pub accepted_at: DateTime<Utc>,
}

/// An auction as anyone sees it: bidders only as pseudonyms, the reserve never before the close.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuctionResponse {
    pub tender_id: String,
    pub lot_id: String,
    /// `listing`, `english`, `dutch`, `reverse`.
    pub form: String,
    /// `scheduled`, `listing`, `timed_round`, `bidding`, `ended`, `sold`, `failed`.
    pub status: String,
    pub current_price: MoneyResponse,
    /// The amount the next bid must reach (reverse: must not exceed); absent when no bid is taken.
    pub next_valid: Option<String>,
    pub increment: String,
    /// The leader's pseudonym (竞买号).
    pub leader: Option<String>,
    pub ends_at: Option<DateTime<Utc>>,
    /// The last accepted bid's number: a live client resumes after it.
    pub last_seq: i64,
    /// The newest bids (at most 200), oldest first; the record lists them all.
    pub bids: Vec<AuctionBidResponse>,
    /// The caller's own pseudonym, once it has bid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub you: Option<String>,
    /// `sold`, `no_bids`, `reserve_not_met` or `cancelled`, once closed.
    pub result: Option<String>,
    pub server_time: DateTime<Utc>,
}

impl From<AuctionView> for AuctionResponse {
    fn from(v: AuctionView) -> Self {
        // Once closed, the row's result names the status everyone sees.
        let status = match v.result.as_deref() {
            Some("sold") => "sold",
            Some(_) => "failed",
            None => v.status.as_str(),
        };
        Self {
            tender_id: v.tender_id,
            lot_id: v.lot_id,
            form: v.terms.form.as_str().to_owned(),
            status: status.to_owned(),
            current_price: v.current_price.into(),
            next_valid: v.next_valid.map(|m| m.amount().to_string()),
            increment: v.increment.to_string(),
            leader: v.leader,
            ends_at: v.ends_at,
            last_seq: v.last_seq,
            bids: v
                .bids
                .into_iter()
                .map(|b| AuctionBidResponse {
                    seq: b.seq,
                    pseudonym: b.pseudonym,
                    amount: b.amount.amount().to_string(),
                    accepted_at: b.accepted_at,
                })
                .collect(),
            you: v.you,
            result: v.result,
            server_time: v.server_time,
        }
    }
}

fn ids(id: &str, lot: &str) -> ApiResult<(TenderId, LotId)> {
    Ok((TenderId::parse(id)?, LotId::parse(lot)?))
}

/// The lot's auction (anyone).
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/auction",
    tag = "auctions",
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, body = AuctionResponse), (status = 404, body = Problem))
)]
async fn get_auction(
    State(state): State<AppState>,
    MaybeAuth(principal): MaybeAuth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<AuctionResponse>> {
    let (tender, lot) = ids(&id, &lot)?;
    let view = auction::view(state.db(), principal.as_ref(), &tender, &lot, state.now()).await?;
    Ok(Json(view.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BidRequest {
    /// A decimal amount in yuan, e.g. `"1250000.00"`.
    pub amount: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BidAccepted {
    pub seq: i64,
    pub amount: String,
    pub accepted_at: DateTime<Utc>,
    pub pseudonym: String,
    /// When the countdown now ends (absent when the bid ended the auction).
    pub ends_at: Option<DateTime<Utc>>,
}

impl From<AcceptedBid> for BidAccepted {
    fn from(b: AcceptedBid) -> Self {
        Self {
            seq: b.seq,
            amount: b.amount.amount().to_string(),
            accepted_at: b.accepted_at,
            pseudonym: b.pseudonym,
            ends_at: b.ends_at,
        }
    }
}

/// A bid (an eligible bidder): decided in order against the auction's state, durable before the
/// answer.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/auction/bids",
    tag = "auctions",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = BidRequest,
    responses(
        (status = 201, body = BidAccepted),
        (status = 403, description = "`not_eligible`", body = Problem),
        (status = 409, description = "`below_increment`, `auction_closed`, `not_started`, `already_leading`", body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn place_bid(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<BidRequest>,
) -> ApiResult<(StatusCode, Json<BidAccepted>)> {
    let (tender, lot) = ids(&id, &lot)?;
    let clock = state.clock().clone();
    let accepted = auction::bid(
        state.db(),
        &auth.principal,
        &tender,
        &lot,
        &body.amount,
        Some(ip),
        move || clock.now(),
    )
    .await?;
    // Committed: this process's watchers hear of it now (others through PostgreSQL).
    state
        .live()
        .publish(auction::bid_event(&tender, &lot, &accepted));
    Ok((StatusCode::CREATED, Json(accepted.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncrementRequest {
    /// The new step: an amount, or for `reverse` a percentage.
    pub increment: String,
}

/// The seller changes the step, before the opening or during a listing (audited).
#[utoipa::path(
    put,
    path = "/api/v1/tenders/{id}/lots/{lot}/auction/increment",
    tag = "auctions",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = IncrementRequest,
    responses(
        (status = 200, body = AuctionResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`auction_closed`", body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn change_increment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<IncrementRequest>,
) -> ApiResult<Json<AuctionResponse>> {
    let (tender, lot) = ids(&id, &lot)?;
    let view = auction::change_increment(
        state.db(),
        &auth.principal,
        &tender,
        &lot,
        &body.increment,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok(Json(view.into()))
}

/// The signed auction record (anyone, after the close): every bid with its server time, the
/// close, the winner and the reserve revealed. 409 `not_opened` before the close.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/auction/record",
    tag = "auctions",
    params(("id" = String, Path), ("lot" = String, Path)),
    responses(
        (status = 200, description = "the signed record of docs/auctions.md", body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`not_opened`", body = Problem),
    )
)]
async fn auction_record(
    State(state): State<AppState>,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let (tender, lot) = ids(&id, &lot)?;
    match auction::service::close::record(state.db(), &tender, &lot).await? {
        Some(record) => Ok(Json(record)),
        None => Err(ApiError::from(tenderhall_domain::DomainError::Refused {
            code: ErrorCode::NotOpened,
            message: Text::new(
                "The auction has not closed yet: its record is published at the close.",
                "竞价尚未结束，竞价记录于结束时公布。",
            ),
        })),
    }
}

/// The signed confirmation of the sale (成交确认书): the buyer, the seller and supervisors.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/auction/confirmation",
    tag = "auctions",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses(
        (status = 200, description = "the signed confirmation of docs/auctions.md", body = Object),
        (status = 404, body = Problem),
    )
)]
async fn confirmation(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let (tender, lot) = ids(&id, &lot)?;
    Ok(Json(
        auction::service::close::confirmation(state.db(), &auth.principal, &tender, &lot).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    /// The last bid number the client has: the bids after it come again, in order, after the
    /// state message (a reconnecting client misses none and gets none twice).
    pub after: Option<i64>,
}

/// The live auction (anyone): a WebSocket that sends the state first (`{"type": "state", ...}` as
/// `GET .../auction` answers it), then every accepted bid (`{"type": "bid", "seq", ...}`) once and
/// in order, and each status change (`{"type": "status", ...}`), as this process learns of them.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/auction/live",
    tag = "auctions",
    params(("id" = String, Path), ("lot" = String, Path), LiveQuery),
    responses(
        (status = 101, description = "switching to the WebSocket protocol"),
        (status = 400, description = "`bad_request`: not a WebSocket handshake", body = Problem),
        (status = 404, body = Problem),
    )
)]
async fn live(
    State(state): State<AppState>,
    MaybeAuth(principal): MaybeAuth,
    Path((id, lot)): Path<(String, String)>,
    crate::extract::ApiQuery(query): crate::extract::ApiQuery<LiveQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<axum::response::Response> {
    let (tender, lot) = ids(&id, &lot)?;
    // An auction that does not exist is a 404 before any upgrade.
    auction::pulse(state.db(), &tender, &lot, state.now()).await?;
    let upgrade = upgrade.map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            Text::new(
                format!("This is a WebSocket: connect with a WebSocket client ({e})."),
                format!("此地址为 WebSocket，请使用 WebSocket 客户端连接（{e}）。"),
            ),
        )
    })?;
    // Watchers only listen: small buffers keep thousands of them cheap (the defaults are 128 KiB
    // each way), and every message is written at once.
    let upgrade = upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(64 * 1024)
        .max_frame_size(64 * 1024);
    Ok(upgrade.on_upgrade(move |socket| watch(socket, state, principal, tender, lot, query.after)))
}

async fn send(socket: &mut WebSocket, text: &str) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Sends the bids after `from` from the database, in order; answers the last one sent, or `None`
/// when the socket closed.
async fn replay(
    socket: &mut WebSocket,
    state: &AppState,
    tender: &TenderId,
    lot: &LotId,
    mut from: i64,
) -> Option<i64> {
    loop {
        let Ok(bids) = auction::bids_after(state.db(), tender, lot, from, 500).await else {
            return Some(from);
        };
        if bids.is_empty() {
            return Some(from);
        }
        for b in &bids {
            if !send(socket, &crate::live::stored_bid(b).to_string()).await {
                return None;
            }
            from = b.seq;
        }
    }
}

async fn watch(
    mut socket: WebSocket,
    state: AppState,
    principal: Option<tenderhall_domain::account::Principal>,
    tender: TenderId,
    lot: LotId,
    after: Option<i64>,
) {
    use tokio::sync::broadcast::error::RecvError;
    // Watch first, then read: whatever commits after the read comes through the room.
    let mut messages = state.live().watch(&tender, &lot);
    let Ok(view) = auction::view(state.db(), principal.as_ref(), &tender, &lot, state.now()).await
    else {
        return;
    };
    let mut sent = view.last_seq;
    let mut first = serde_json::to_value(AuctionResponse::from(view)).unwrap_or_default();
    first["type"] = "state".into();
    let resume = after.filter(|n| *n < sent);
    if resume.is_some() {
        // The bids come one by one after the state, from the client's last on.
        first["bids"] = serde_json::Value::Array(Vec::new());
    }
    if !send(&mut socket, &first.to_string()).await {
        return;
    }
    if let Some(from) = resume {
        let Some(last) = replay(&mut socket, &state, &tender, &lot, from).await else {
            return;
        };
        sent = sent.max(last);
    }
    loop {
        tokio::select! {
            message = messages.recv() => match message {
                Ok(message) => {
                    if let Some(seq) = message.seq {
                        if seq <= sent {
                            continue;
                        }
                        if seq > sent + 1 {
                            // The room began after this watcher read the state: the ones between
                            // come from the database.
                            match replay(&mut socket, &state, &tender, &lot, sent).await {
                                Some(last) => sent = last,
                                None => return,
                            }
                            if seq <= sent {
                                continue;
                            }
                        }
                        sent = seq;
                    }
                    if !send(&mut socket, &message.text).await {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    match replay(&mut socket, &state, &tender, &lot, sent).await {
                        Some(last) => sent = last,
                        None => return,
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
