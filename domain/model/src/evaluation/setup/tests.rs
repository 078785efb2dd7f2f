#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn leaf(id: &str, weight: &str, kind: &str) -> CriterionInput {
    CriterionInput {
        id: id.into(),
        title: id.into(),
        weight: d(weight),
        kind: kind.into(),
        field: None,
        better: None,
        range: (kind == "subjective").then(|| RangeInput {
            min: Decimal::ZERO,
            max: d(weight),
        }),
        children: Vec::new(),
    }
}

fn scoring(price: &str, rest: &str) -> SetupInput {
    SetupInput {
        method: "comprehensive_scoring".into(),
        compliance: vec![CheckInput {
            id: "licence".into(),
            title: "营业执照".into(),
        }],
        criteria: vec![
            leaf("price", price, "price"),
            leaf("tech", rest, "subjective"),
        ],
        price: PriceInput {
            method: "gp_lowest_base".into(),
            sme_deduction: d("10"),
            mean_base: None,
        },
    }
}

fn code(r: Result<Setup, SetupRefusal>) -> ErrorCode {
    r.unwrap_err().code
}

#[test]
fn art55_gp_goods_price_weight_at_least_30() {
    let ok = check(
        &scoring("30", "70"),
        "comprehensive_scoring",
        Purchase::GpGoods,
        &[],
    );
    assert_eq!(ok.unwrap().price_weight(), d("30"));
    let low = check(
        &scoring("29.5", "70.5"),
        "comprehensive_scoring",
        Purchase::GpGoods,
        &[],
    );
    assert_eq!(code(low), ErrorCode::PriceWeightTooLow);
}

#[test]
fn art55_gp_services_price_weight_at_least_10() {
    let ok = check(
        &scoring("10", "90"),
        "comprehensive_scoring",
        Purchase::GpServices,
        &[],
    );
    assert!(ok.is_ok());
    let low = check(
        &scoring("9", "91"),
        "comprehensive_scoring",
        Purchase::GpServices,
        &[],
    );
    assert_eq!(code(low), ErrorCode::PriceWeightTooLow);
    // Works have no floor.
    let works = check(
        &scoring("5", "95"),
        "comprehensive_scoring",
        Purchase::Works,
        &[],
    );
    assert!(works.is_ok());
}

#[test]
fn weights_sum_to_100_at_the_top_and_to_the_group_below() {
    let short = check(
        &scoring("30", "60"),
        "comprehensive_scoring",
        Purchase::GpGoods,
        &[],
    );
    assert_eq!(code(short), ErrorCode::WeightsNot100);
    let mut grouped = scoring("40", "60");
    grouped.criteria[1] = CriterionInput {
        kind: "group".into(),
        range: None,
        children: vec![leaf("a", "30", "subjective"), leaf("b", "20", "subjective")],
        ..leaf("tech", "60", "group")
    };
    let r = check(&grouped, "comprehensive_scoring", Purchase::GpGoods, &[]);
    let refusal = r.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::WeightsNot100);
    assert_eq!(refusal.field, "evaluation.criteria[1].children");
    grouped.criteria[1].children[1].weight = d("30");
    grouped.criteria[1].children[1].range = Some(RangeInput {
        min: Decimal::ZERO,
        max: d("30"),
    });
    let setup = check(&grouped, "comprehensive_scoring", Purchase::GpGoods, &[]).unwrap();
    let leaves: Vec<&str> = setup.leaves().iter().map(|c| c.id.as_str()).collect();
    assert_eq!(leaves, ["price", "a", "b"]);
}

#[test]
fn a_subjective_range_must_leave_room_to_judge() {
    let mut s = scoring("30", "70");
    s.criteria[1].range = Some(RangeInput {
        min: d("20"),
        max: d("20"),
    });
    assert_eq!(
        code(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])),
        ErrorCode::EmptyRange
    );
    s.criteria[1].range = Some(RangeInput {
        min: d("0"),
        max: d("71"),
    });
    assert_eq!(
        code(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])),
        ErrorCode::Invalid
    );
}

fn mean_base(drop: usize) -> PriceInput {
    PriceInput {
        method: "mean_base".into(),
        sme_deduction: Decimal::ZERO,
        mean_base: Some(MeanBaseInput {
            drop_highest: drop,
            drop_lowest: drop,
            k_min: d("0.01"),
            k_max: d("0.03"),
            k_step: None,
            e_above: d("1"),
            e_below: d("0.5"),
        }),
    }
}

#[test]
fn art57_gp_may_not_drop_the_highest_or_lowest_price() {
    let mut s = scoring("30", "70");
    s.price = mean_base(1);
    assert_eq!(
        code(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])),
        ErrorCode::PriceDropForbidden
    );
    s.price = mean_base(0);
    assert_eq!(
        code(check(
            &s,
            "comprehensive_scoring",
            Purchase::GpServices,
            &[]
        )),
        ErrorCode::PriceMethodNotAllowed
    );
    // Works may: the mean-base family with K drawn at the opening.
    s.price = mean_base(1);
    let works = check(&s, "comprehensive_scoring", Purchase::Works, &[]).unwrap();
    let k = works.k_range().unwrap();
    assert_eq!((k.min, k.max, k.choices()), (d("0.01"), d("0.03"), 21));
}

#[test]
fn sme_deduction_for_gp_is_10_to_20_percent() {
    let mut s = scoring("30", "70");
    s.price.sme_deduction = d("5");
    assert_eq!(
        code(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])),
        ErrorCode::SmeDeductionOutOfRange
    );
    s.price.sme_deduction = d("0");
    assert!(check(&s, "comprehensive_scoring", Purchase::GpGoods, &[]).is_ok());
}

#[test]
fn the_method_is_the_tenders_and_lowest_price_has_no_criteria() {
    let s = scoring("30", "70");
    assert_eq!(
        check(&s, "lowest_evaluated_price", Purchase::GpGoods, &[])
            .unwrap_err()
            .field,
        "evaluation.method"
    );
    let mut lowest = s.clone();
    lowest.method = "lowest_evaluated_price".into();
    assert_eq!(
        check(&lowest, "lowest_evaluated_price", Purchase::GpGoods, &[])
            .unwrap_err()
            .field,
        "evaluation.criteria"
    );
    lowest.criteria.clear();
    let setup = check(&lowest, "lowest_evaluated_price", Purchase::GpGoods, &[]).unwrap();
    assert_eq!(setup.price_weight(), Decimal::ONE_HUNDRED);
}

#[test]
fn objective_criteria_read_an_opening_field() {
    let mut s = scoring("30", "50");
    s.criteria.push(CriterionInput {
        field: Some("delivery_days".into()),
        better: Some("lower".into()),
        ..leaf("delivery", "20", "objective")
    });
    assert_eq!(
        check(&s, "comprehensive_scoring", Purchase::GpGoods, &[])
            .unwrap_err()
            .field,
        "evaluation.criteria[2].field"
    );
    let fields = ["delivery_days".to_owned()];
    assert!(check(&s, "comprehensive_scoring", Purchase::GpGoods, &fields).is_ok());
}
