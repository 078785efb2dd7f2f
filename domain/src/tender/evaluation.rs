//! The evaluation set-up of a tender (docs/spec/evaluation.md "The set-up"): which rules of
//! `tenderhall_model::evaluation::setup` apply to its kind, checked at publication and again on an
//! amendment that changes it, and the default a lowest-evaluated-price tender gets without one.

use tenderhall_model::evaluation::setup::{self, PriceInput, Purchase, Setup, SetupInput};

use super::procedure::{AwardMethod, Kind};
use crate::error::{DomainError, DomainResult, ErrorCode, Text};

/// What the set-up's rules know of a kind.
pub fn purchase(kind: Kind) -> Purchase {
    match kind {
        Kind::Goods => Purchase::GpGoods,
        Kind::Services => Purchase::GpServices,
        Kind::Construction => Purchase::Works,
        _ => Purchase::Other,
    }
}

/// The set-up a tender awarded by the lowest evaluated price has when it publishes none: no
/// compliance checks beyond the opening's, the lowest evaluated price as the base, no deduction.
pub fn default_lowest_price() -> SetupInput {
    SetupInput {
        method: AwardMethod::LowestEvaluatedPrice.as_str().to_owned(),
        compliance: Vec::new(),
        criteria: Vec::new(),
        price: PriceInput {
            method: "gp_lowest_base".to_owned(),
            sme_deduction: rust_decimal::Decimal::ZERO,
            mean_base: None,
        },
    }
}

/// Checks the set-up `input` for a tender of `kind` awarded by `award_method`: `None` for a
/// tender that experts do not evaluate (the highest price wins an auction).
pub fn check_setup(
    input: Option<&SetupInput>,
    kind: Kind,
    award_method: AwardMethod,
    opening_fields: &[String],
) -> DomainResult<Option<Setup>> {
    let input = match (award_method, input) {
        (AwardMethod::HighestPrice, None) => return Ok(None),
        (AwardMethod::HighestPrice, Some(_)) => {
            return Err(DomainError::Invalid {
                code: ErrorCode::Invalid,
                field: Some("evaluation".into()),
                message: Text::new(
                    "A tender awarded to the highest price has no evaluation set-up.",
                    "价高者得的项目不设评标办法。",
                ),
            });
        }
        (AwardMethod::ComprehensiveScoring, None) => {
            return Err(DomainError::Invalid {
                code: ErrorCode::EvaluationMissing,
                field: Some("evaluation".into()),
                message: Text::new(
                    "Comprehensive scoring publishes its criteria, weights and price formula with the tender (87号令 Art 55): add `evaluation`.",
                    "综合评分法须随招标文件公布评审因素、分值和价格计算方法（87号令第五十五条）：请填写 `evaluation`。",
                ),
            });
        }
        (AwardMethod::LowestEvaluatedPrice, None) => &default_lowest_price(),
        (_, Some(input)) => input,
    };
    setup::check(input, award_method.as_str(), purchase(kind), opening_fields)
        .map(Some)
        .map_err(|r| DomainError::Invalid {
            code: r.code,
            field: Some(r.field),
            message: r.reason,
        })
}
