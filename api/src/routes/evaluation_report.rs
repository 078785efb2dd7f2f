//! The evaluation report (docs/spec/evaluation.md "The report"): the members sign it, the platform
//! signs it after them, and the tender's owners, the committee and supervisors read it as JSON or
//! as a printable page in Chinese (English with `?lang=en`) that a supervisor can file.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use tenderhall_domain::evaluation::service::room;
use tenderhall_domain::id::{LotId, TenderId};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, ClientIp};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_report))
        .routes(routes!(sign_report))
        .routes(routes!(report_page))
}

/// The report: while members sign, `{status: "signing", report, report_sha256, signatures}` for
/// the committee and supervisors; once all have signed and the platform after them,
/// `{status: "signed", record}` for them and the tender's owners. 404 to anyone else, and before
/// every member has scored.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation/report",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = Problem))
)]
async fn get_report(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let report = room::report(
        state.db(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
    )
    .await?;
    Ok(Json(report))
}

/// A member's signature of the report.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSignatureRequest {
    /// The digest the report answered with: what the member read.
    pub report_sha256: String,
    /// The member's dissent (不同意见), recorded with its signature.
    #[serde(default)]
    pub dissent: Option<String>,
    /// Ed25519, base64, over the canonical JSON of `{dissent, expert_id, report_sha256}`.
    pub signature: String,
}

/// A member signs the report, with its dissent if any; the last signature makes the platform sign
/// the record and tells the tender's owners.
#[utoipa::path(
    post,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation/report/signatures",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path)),
    request_body = ReportSignatureRequest,
    responses(
        (status = 201, body = Object),
        (status = 404, body = Problem),
        (status = 409, description = "`sheet_locked` (signed already), `wrong_phase` (not every member has scored)", body = Problem),
        (status = 422, description = "`invalid` (a digest other than the report's), `bad_signature`", body = Problem),
    )
)]
async fn sign_report(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReportSignatureRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let done = room::sign_report(
        state.db(),
        state.signer(),
        &auth.principal,
        &TenderId::parse(&id)?,
        &LotId::parse(&lot)?,
        &body.report_sha256,
        body.dissent,
        &body.signature,
        Some(ip),
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(done)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageQuery {
    /// `zh` (default) or `en`.
    pub lang: Option<String>,
}

struct Labels {
    heading: &'static str,
    project: &'static str,
    lot: &'static str,
    signed_at: &'static str,
    committee: &'static str,
    expert: &'static str,
    dissent: &'static str,
    compliance: &'static str,
    bidder: &'static str,
    result: &'static str,
    checks: &'static str,
    ranking: &'static str,
    base_price: &'static str,
    rank: &'static str,
    price: &'static str,
    evaluated_price: &'static str,
    points: &'static str,
    total: &'static str,
    candidates: &'static str,
    flags: &'static str,
    criterion: &'static str,
    score: &'static str,
    others_mean: &'static str,
    resolution: &'static str,
    confirmed: &'static str,
    corrected: &'static str,
    clarifications: &'static str,
    question: &'static str,
    answer: &'static str,
    lapsed: &'static str,
    rounds: &'static str,
    round: &'static str,
    verification: &'static str,
    verification_text: &'static str,
    report_digest: &'static str,
    platform_key: &'static str,
    platform_signature: &'static str,
    valid: &'static str,
    invalid: &'static str,
    none: &'static str,
}

const ZH: Labels = Labels {
    heading: "评标报告",
    project: "项目",
    lot: "标段",
    signed_at: "签署时间",
    committee: "评标委员会",
    expert: "专家编号",
    dissent: "不同意见",
    compliance: "符合性审查",
    bidder: "投标人",
    result: "结论",
    checks: "审查项（表决）",
    ranking: "评分与排序",
    base_price: "评标基准价",
    rank: "名次",
    price: "投标报价",
    evaluated_price: "评审价格",
    points: "各项得分",
    total: "总分",
    candidates: "推荐的中标候选人",
    flags: "偏离较大的评分",
    criterion: "评审因素",
    score: "评分",
    others_mean: "其他成员平均分",
    resolution: "复核",
    confirmed: "确认",
    corrected: "更正为",
    clarifications: "澄清",
    question: "问题",
    answer: "答复",
    lapsed: "逾期未答复",
    rounds: "最后报价",
    round: "轮次",
    verification: "核验",
    verification_text: "本报告的规范 JSON 由每位评标委员会成员以其本人密钥签名，再由平台签章。可通过 API 获取完整记录，并以平台公钥核验签名。",
    report_digest: "报告摘要（SHA-256）",
    platform_key: "平台密钥",
    platform_signature: "平台签名",
    valid: "通过",
    invalid: "不通过",
    none: "无",
};

const EN: Labels = Labels {
    heading: "Evaluation report",
    project: "Tender",
    lot: "Lot",
    signed_at: "Signed at",
    committee: "Evaluation committee",
    expert: "Expert",
    dissent: "Dissent",
    compliance: "Compliance review",
    bidder: "Bidder",
    result: "Result",
    checks: "Checks (votes)",
    ranking: "Scores and ranking",
    base_price: "Base price",
    rank: "Rank",
    price: "Price",
    evaluated_price: "Evaluated price",
    points: "Points per criterion",
    total: "Total",
    candidates: "Recommended candidates",
    flags: "Marks far from the others",
    criterion: "Criterion",
    score: "Score",
    others_mean: "Others' mean",
    resolution: "Review",
    confirmed: "confirmed",
    corrected: "corrected to",
    clarifications: "Clarifications",
    question: "Question",
    answer: "Answer",
    lapsed: "not answered in time",
    rounds: "Final quotes",
    round: "Round",
    verification: "Verification",
    verification_text: "The report's canonical JSON is signed by every committee member with their own key, then by the platform. The full record is in the API and checks under the platform's published key.",
    report_digest: "Report digest (SHA-256)",
    platform_key: "Platform key",
    platform_signature: "Platform signature",
    valid: "passes",
    invalid: "fails",
    none: "none",
};

struct MemberRow {
    expert_id: String,
    signed_at: String,
    dissent: String,
}

struct ComplianceRow {
    bidder: String,
    valid: &'static str,
    detail: String,
}

struct ResultRow {
    rank: String,
    bidder: String,
    price: String,
    evaluated_price: String,
    points: String,
    total: String,
}

struct FlagRow {
    expert: String,
    bidder: String,
    criterion: String,
    score: String,
    others_mean: String,
    resolution: String,
}

struct ClarificationRow {
    bidder: String,
    question: String,
    answer: String,
}

struct QuoteRow {
    round: String,
    bidder: String,
    result: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    lang: &'static str,
    l: Labels,
    title: String,
    tender_id: String,
    lot_id: String,
    signed_at: String,
    members: Vec<MemberRow>,
    compliance: Vec<ComplianceRow>,
    base_price: String,
    k: String,
    results: Vec<ResultRow>,
    candidates: String,
    flags: Vec<FlagRow>,
    clarifications: Vec<ClarificationRow>,
    quotes: Vec<QuoteRow>,
    report_sha256: String,
    platform_key: String,
    signature: String,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn items(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// The page of a signed record.
fn page(record: &Value, title: String, en: bool) -> ReportPage {
    let l = if en { EN } else { ZH };
    let report = &record["report"];
    let names: std::collections::HashMap<String, String> = items(&report["bids"])
        .iter()
        .map(|b| (s(&b["bidder_id"]), s(&b["bidder_name"])))
        .collect();
    let name = |id: &Value| names.get(&s(id)).cloned().unwrap_or_else(|| s(id));
    let ranking = &report["ranking"];
    ReportPage {
        lang: if en { "en" } else { "zh-CN" },
        title,
        tender_id: s(&report["tender_id"]),
        lot_id: s(&report["lot_id"]),
        signed_at: s(&record["signed_at"]),
        members: items(&record["signatures"])
            .iter()
            .map(|m| MemberRow {
                expert_id: s(&m["expert_id"]),
                signed_at: s(&m["signed_at"]),
                dissent: if m["dissent"].is_null() {
                    l.none.to_owned()
                } else {
                    s(&m["dissent"])
                },
            })
            .collect(),
        compliance: items(&report["compliance"])
            .iter()
            .map(|c| ComplianceRow {
                bidder: name(&c["bidder_id"]),
                valid: if c["valid"] == true {
                    l.valid
                } else {
                    l.invalid
                },
                detail: items(&c["checks"])
                    .iter()
                    .map(|k| {
                        format!(
                            "{}: {} ({} / {})",
                            s(&k["check"]),
                            if k["pass"] == true {
                                l.valid
                            } else {
                                l.invalid
                            },
                            items(&k["passed_by"]).len(),
                            items(&k["failed_by"]).len()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect(),
        base_price: s(&ranking["base_price"]),
        k: s(&report["k"]),
        results: items(&ranking["results"])
            .iter()
            .map(|r| ResultRow {
                rank: s(&r["rank"]),
                bidder: name(&r["bidder_id"]),
                price: s(&r["price"]),
                evaluated_price: s(&r["evaluated_price"]),
                points: items(&r["criteria"])
                    .iter()
                    .map(|c| format!("{} {}", s(&c["criterion"]), s(&c["points"])))
                    .collect::<Vec<_>>()
                    .join("; "),
                total: s(&r["total"]),
            })
            .collect(),
        candidates: items(&ranking["candidates"])
            .iter()
            .map(&name)
            .collect::<Vec<_>>()
            .join(if en { ", " } else { "、" }),
        flags: items(&ranking["flags"])
            .iter()
            .map(|f| FlagRow {
                expert: s(&f["expert_id"]),
                bidder: name(&f["bidder_id"]),
                criterion: s(&f["criterion"]),
                score: s(&f["score"]),
                others_mean: s(&f["others_mean"]),
                resolution: match f["resolution"].as_str() {
                    Some("corrected") => format!("{} {}", l.corrected, s(&f["corrected_score"])),
                    Some("confirmed") => l.confirmed.to_owned(),
                    _ => String::new(),
                },
            })
            .collect(),
        clarifications: items(&report["clarifications"])
            .iter()
            .map(|c| ClarificationRow {
                bidder: name(&c["bidder_id"]),
                question: s(&c["question"]),
                answer: if c["lapsed"] == true {
                    l.lapsed.to_owned()
                } else {
                    s(&c["answer"])
                },
            })
            .collect(),
        quotes: items(&report["rounds"])
            .iter()
            .flat_map(|r| {
                items(&r["quotes"])
                    .iter()
                    .map(|q| QuoteRow {
                        round: s(&r["round"]),
                        bidder: name(&q["bidder_id"]),
                        result: if q["status"] == "opened" {
                            s(&q["fields"]["total_price"])
                        } else {
                            s(&q["status"])
                        },
                    })
                    .collect::<Vec<_>>()
            })
            .collect(),
        report_sha256: s(&record["report_sha256"]),
        platform_key: s(&record["platform_key"]),
        signature: s(&record["signature"]),
        l,
    }
}

/// The signed report as a printable page, Chinese by default (`?lang=en` for English), for the
/// same readers as the record. 404 until every member and the platform have signed.
#[utoipa::path(
    get,
    path = "/api/v1/tenders/{id}/lots/{lot}/evaluation/report.html",
    tag = "evaluation",
    security(("bearer" = [])),
    params(("id" = String, Path), ("lot" = String, Path), PageQuery),
    responses(
        (status = 200, content_type = "text/html", body = String),
        (status = 404, body = Problem),
    )
)]
async fn report_page(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, lot)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Response> {
    let tender_id = TenderId::parse(&id)?;
    let report = room::report(
        state.db(),
        &auth.principal,
        &tender_id,
        &LotId::parse(&lot)?,
    )
    .await?;
    if report["status"] != "signed" {
        return Err(ApiError::not_found());
    }
    let title =
        tenderhall_domain::tender::service::get(state.db(), Some(&auth.principal), &tender_id)
            .await
            .map(|t| t.title)
            .unwrap_or_default();
    let html = page(
        &report["record"],
        title,
        query.lang.as_deref() == Some("en"),
    )
    .render()
    .map_err(|e| {
        tracing::error!(error = %e, "the report page did not render");
        ApiError::internal()
    })?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}
