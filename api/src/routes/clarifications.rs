//! Questions, clarifications and amendments of the tender documents (电子招标投标办法 Art 22;
//! 实施条例 Art 21–22): bidders ask without their identity being shown; the owner answers or
//! amends; everything is published to everyone and mailed to every downloader, and an amendment
//! that affects bids too close to the deadline moves the deadline.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tenderhall_domain::account::OrganizationKind;
use tenderhall_domain::id::{QuestionId, TenderId};
use tenderhall_domain::tender::service::{self as tenders, Amendment, AmendmentInput, Question};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Items, Problem};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, ClientIp, MaybeAuth};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ask_question, list_questions))
        .routes(routes!(answer_question))
        .routes(routes!(publish_amendment, list_amendments))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionRequest {
    /// The question, up to 5,000 characters.
    pub question: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionResponse {
    pub question_id: String,
    pub question: String,
    pub asked_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// True on your own organization's questions. Nobody is ever shown who asked.
    pub mine: bool,
}

impl From<Question> for QuestionResponse {
    fn from(q: Question) -> Self {
        Self {
            question_id: q.id,
            question: q.question,
            asked_at: q.asked_at,
            answer: q.answer,
            answered_at: q.answered_at,
            mine: q.mine,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub answer: String,
    /// Whether the answer may affect the preparation of bids: then the deadline keeps 15 days
    /// after it (实施条例 Art 21). Default false.
    #[serde(default)]
    pub affects_bids: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentRequest {
    /// Up to 200 characters.
    pub title: String,
    /// Up to 50,000 characters.
    pub body: String,
    /// Whether it may affect the preparation of bids (default true): then the deadline keeps 15
    /// days after it, moving out if need be (实施条例 Art 21).
    #[serde(default = "yes")]
    pub affects_bids: bool,
    /// Documents already uploaded to the tender that it publishes (e.g. revised drawings).
    #[serde(default)]
    pub document_ids: Vec<String>,
    /// A later bid deadline, if the tenderer wants more than the legal minimum.
    pub bid_deadline: Option<DateTime<Utc>>,
    /// A new evaluation set-up (docs/spec/evaluation.md), checked as at publication; such an
    /// amendment always counts as affecting bids.
    #[schema(value_type = Option<Object>)]
    pub evaluation: Option<tenderhall_domain::tender::input::SetupInput>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AmendmentResponse {
    pub amendment_id: String,
    /// 1, 2, … in publication order.
    pub seq: u32,
    pub title: String,
    pub body: String,
    pub affects_bids: bool,
    pub document_ids: Vec<String>,
    /// The question it answers, when it is an answer.
    pub question_id: Option<String>,
    /// The bid deadline before it was published.
    pub previous_bid_deadline: DateTime<Utc>,
    /// The bid deadline it leaves.
    pub bid_deadline: DateTime<Utc>,
    pub deadline_moved: bool,
    pub published_at: DateTime<Utc>,
}

impl From<Amendment> for AmendmentResponse {
    fn from(a: Amendment) -> Self {
        Self {
            deadline_moved: a.deadline_moved(),
            amendment_id: a.id,
            seq: a.seq,
            title: a.title,
            body: a.body,
            affects_bids: a.affects_bids,
            document_ids: a.document_ids,
            question_id: a.question_id,
            previous_bid_deadline: a.deadline_before,
            bid_deadline: a.bid_deadline,
            published_at: a.published_at,
        }
    }
}

/// Ask about a tender's documents (a bidder; until `questions_until`). The tenderer sees the
/// question, never who asked; everyone sees it once answered.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/questions",
    tag = "clarifications",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = QuestionRequest,
    responses(
        (status = 201, body = QuestionResponse),
        (status = 403, description = "not a bidder organization", body = Problem),
        (status = 409, description = "`questions_closed` (10 days before the deadline, 实施条例 Art 22), `tender_not_active`", body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn ask_question(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<QuestionRequest>,
) -> ApiResult<(StatusCode, Json<QuestionResponse>)> {
    // Who may ask is answered (403) before the id is read, whatever it names.
    auth.principal.require_kind(&[OrganizationKind::Bidder])?;
    let tender = TenderId::parse(&id)?;
    let q = tenders::ask_question(
        state.db(),
        &auth.principal,
        &tender,
        &body.question,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(q.into())))
}

/// The questions you may see: the owner all of them, a bidder its own, everyone the answered ones.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/questions",
    security((), ("bearer" = [])),
    tag = "clarifications",
    params(("id" = String, Path)),
    responses((status = 200, body = Items<QuestionResponse>), (status = 404, body = Problem))
)]
async fn list_questions(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Items<QuestionResponse>>> {
    let items =
        tenders::list_questions(state.db(), viewer.as_ref(), &TenderId::parse(&id)?).await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Answer a question (the tender's owner): published to everyone as a clarification and mailed to
/// every account that downloaded the documents.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/questions/{question_id}/answer",
    tag = "clarifications",
    security(("bearer" = [])),
    params(("id" = String, Path), ("question_id" = String, Path)),
    request_body = AnswerRequest,
    responses(
        (status = 201, body = AmendmentResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`already_answered`, `tender_not_active`", body = Problem),
        (status = 422, body = Problem),
    )
)]
async fn answer_question(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, question_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<AnswerRequest>,
) -> ApiResult<(StatusCode, Json<AmendmentResponse>)> {
    let a = tenders::answer_question(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &QuestionId::parse(&question_id)?,
        &body.answer,
        body.affects_bids,
        Some(ip),
        state.now(),
    )
    .await?;
    // A moved deadline is a new job that may be due before what the runner waits for.
    state.wake_jobs();
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// Publish a clarification or amendment (the tender's owner). One that may affect bids, issued less
/// than 15 days (÷ accelerator) before the deadline, moves the deadline out to meet the rule
/// (实施条例 Art 21). Everyone who downloaded the documents is told, in the platform and by mail.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/amendments",
    tag = "clarifications",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = AmendmentRequest,
    responses(
        (status = 201, body = AmendmentResponse),
        (status = 404, body = Problem),
        (status = 409, description = "`tender_not_active`", body = Problem),
        (status = 422, description = "`period_too_short` for a chosen deadline earlier than the rule allows", body = Problem),
    )
)]
async fn publish_amendment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AmendmentRequest>,
) -> ApiResult<(StatusCode, Json<AmendmentResponse>)> {
    let input = AmendmentInput {
        title: body.title,
        body: body.body,
        affects_bids: body.affects_bids,
        document_ids: body.document_ids,
        bid_deadline: body.bid_deadline,
        evaluation: body.evaluation,
    };
    let a = tenders::publish_amendment(
        state.db(),
        state.master_key(),
        &auth.principal,
        &TenderId::parse(&id)?,
        input,
        Some(ip),
        state.now(),
    )
    .await?;
    state.wake_jobs();
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// The published clarifications and amendments, in order (anyone, for a published tender).
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/amendments",
    security((), ("bearer" = [])),
    tag = "clarifications",
    params(("id" = String, Path)),
    responses((status = 200, body = Items<AmendmentResponse>), (status = 404, body = Problem))
)]
async fn list_amendments(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Items<AmendmentResponse>>> {
    let items =
        tenders::list_amendments(state.db(), viewer.as_ref(), &TenderId::parse(&id)?).await?;
    Ok(Json(Items {
        items: items.into_iter().map(Into::into).collect(),
    }))
}
