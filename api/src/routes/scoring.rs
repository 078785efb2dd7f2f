//! The scoring simulator (docs/spec/api-contract.md "Scoring simulator"): anyone may run the price
//! formulas the evaluation uses, on bids of their own, and change nothing. A tenderer checks a
//! formula before publishing; anyone recomputes a published result.

use axum::Json;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tenderhall_domain::evaluation::price::{
    MeanBase, PriceMethod, PriceRule, PricedBid, cents_text, score,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Problem;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(simulate))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeanBaseInput {
    #[serde(default)]
    pub drop_highest: usize,
    #[serde(default)]
    pub drop_lowest: usize,
    /// The downward float K, a decimal from 0 to under 1, e.g. `"0.02"`.
    pub k: String,
    pub e_above: String,
    pub e_below: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulatedBid {
    pub bidder: String,
    /// A decimal amount, e.g. `"1000000.00"`.
    pub price: String,
    #[serde(default)]
    pub sme: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationRequest {
    /// `gp_lowest_base` or `mean_base`.
    pub price_method: String,
    /// Points, 0 to 100.
    pub price_weight: String,
    /// Percent deducted from an SME bid's price; 0 when omitted.
    #[serde(default)]
    pub sme_deduction: Option<String>,
    /// Required with `mean_base`.
    #[serde(default)]
    pub mean_base: Option<MeanBaseInput>,
    pub bids: Vec<SimulatedBid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimulatedScore {
    pub bidder: String,
    pub evaluated_price: String,
    pub price_score: String,
    pub rank: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimulationResponse {
    pub base_price: String,
    /// Best first: by price score descending, ties by the lower price.
    pub scores: Vec<SimulatedScore>,
}

/// A decimal field, or 422 naming it.
fn decimal(field: &str, raw: &str) -> Result<Decimal, ApiError> {
    raw.trim().parse::<Decimal>().map_err(|_| {
        ApiError::invalid(
            field,
            format!("`{field}` must be a decimal number written as a string, such as \"30\"."),
            format!("`{field}` 须为以字符串书写的十进制数，例如 \"30\"。"),
        )
    })
}

/// Score bids with the price formula the evaluation uses (nothing is stored). `gp_lowest_base`: the
/// lowest evaluated price is the base, score = base / evaluated × weight (87号令 Art 55).
/// `mean_base`: the mean of the evaluated prices, dropping the given extremes when three remain,
/// × (1 − k); score = max(0, weight − E × |deviation %|). Exact; rounded half-up to 2 decimals only
/// in the answer.
#[utoipa::path(
    post,
    path = "/api/v1/scoring/simulate",
    tag = "evaluation",
    request_body = SimulationRequest,
    responses(
        (status = 200, body = SimulationResponse),
        (status = 400, body = Problem),
        (status = 422, description = "`invalid`, naming the field", body = Problem),
    )
)]
async fn simulate(ApiJson(req): ApiJson<SimulationRequest>) -> ApiResult<Json<SimulationResponse>> {
    let method = match (req.price_method.as_str(), &req.mean_base) {
        ("gp_lowest_base", _) => PriceMethod::GpLowestBase,
        ("mean_base", Some(m)) => PriceMethod::MeanBase(MeanBase {
            drop_highest: m.drop_highest,
            drop_lowest: m.drop_lowest,
            k: decimal("mean_base.k", &m.k)?,
            e_above: decimal("mean_base.e_above", &m.e_above)?,
            e_below: decimal("mean_base.e_below", &m.e_below)?,
        }),
        ("mean_base", None) => {
            return Err(ApiError::invalid(
                "mean_base",
                "`mean_base` needs its parameters: {drop_highest, drop_lowest, k, e_above, e_below}.",
                "`mean_base` 方法须提供参数：{drop_highest, drop_lowest, k, e_above, e_below}。",
            ));
        }
        (other, _) => {
            return Err(ApiError::invalid(
                "price_method",
                format!("Unknown price method `{other}`: use `gp_lowest_base` or `mean_base`."),
                format!("未知的价格计算方法 `{other}`：请使用 `gp_lowest_base` 或 `mean_base`。"),
            ));
        }
    };
    let rule = PriceRule {
        method,
        weight: decimal("price_weight", &req.price_weight)?,
        sme_deduction: match &req.sme_deduction {
            Some(raw) => decimal("sme_deduction", raw)?,
            None => Decimal::ZERO,
        },
    };
    let bids = req
        .bids
        .iter()
        .enumerate()
        .map(|(i, b)| {
            Ok(PricedBid {
                bidder: b.bidder.clone(),
                price: decimal(&format!("bids[{i}].price"), &b.price)?,
                sme: b.sme,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let result = score(&rule, &bids).map_err(|refusal| {
        ApiError::invalid(refusal.field, refusal.reason.en, refusal.reason.zh)
    })?;
    Ok(Json(SimulationResponse {
        base_price: cents_text(result.base_price),
        scores: result
            .scores
            .into_iter()
            .map(|s| SimulatedScore {
                bidder: s.bidder,
                evaluated_price: cents_text(s.evaluated_price),
                price_score: cents_text(s.price_score),
                rank: s.rank,
            })
            .collect(),
    }))
}
