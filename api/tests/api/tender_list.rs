//! The public list over a few hundred tenders: filters and cursor pagination.

use std::collections::HashSet;

use chrono::{Duration, TimeDelta};
use reqwest::StatusCode;
use serde_json::Value;
use tenderhall_domain::account::service::authenticate;
use tenderhall_domain::id::TenderId;
use tenderhall_domain::money::MoneyInput;
use tenderhall_domain::tender::service::{LotInput, TenderInput, cancel, create_draft, publish};

use crate::helpers::{TestApp, TestResult, assert_problem};

const TOTAL: usize = 240;

/// Publishes `TOTAL` tenders: every third `goods` (the rest `construction`), every fourth titled
/// 医院, every tenth cancelled after publication, plus a few drafts that must never be listed.
async fn seed(app: &TestApp) -> anyhow::Result<()> {
    let (token, _) = app.member("bulk@tenderer.test", "tenderer").await?;
    let principal = authenticate(app.state.db(), &token, app.state.now()).await?;
    let db = app.state.db();
    let procedures = &app.settings.procedures;
    for i in 0..TOTAL + 5 {
        let goods = i % 3 == 0;
        let input = TenderInput {
            title: if i % 4 == 0 {
                format!("第{i}号 医院设备采购")
            } else {
                format!("第{i}号 道路工程")
            },
            kind: if goods { "goods" } else { "construction" }.into(),
            procedure: "open_tender".into(),
            award_method: "lowest_evaluated_price".into(),
            lots: vec![LotInput {
                id: "1".into(),
                title: "标段".into(),
                budget: MoneyInput::Text("1000000".into()),
                deposit: MoneyInput::Text("20000".into()),
                price_ceiling: None,
                auction: None,
            }],
            document_fee: None,
            bid_deadline: app.state.now() + Duration::days(30),
            bid_validity_days: None,
            opening_fields: None,
            accelerator: None,
            tenderer_id: None,
            evaluation: None,
            region: None,
        };
        let tender = create_draft(
            db,
            app.state.master_key(),
            &principal,
            input,
            true,
            None,
            app.state.now(),
        )
        .await?;
        if i >= TOTAL {
            continue; // left as drafts
        }
        let tender_id = TenderId::parse(&tender.id)?;
        publish(
            db,
            &principal,
            &tender_id,
            procedures,
            app.state.master_key(),
            true,
            None,
            app.state.now(),
        )
        .await?;
        if i % 10 == 0 {
            cancel(
                db,
                &principal,
                &tender_id,
                "预算调整",
                rust_decimal::Decimal::ZERO,
                None,
                app.state.now(),
            )
            .await?;
        }
        // Several tenders share each publication instant: the cursor must break ties.
        if i % 7 == 0 {
            app.clock.advance(TimeDelta::seconds(1));
        }
    }
    Ok(())
}

async fn all_pages(app: &TestApp, query: &str) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let sep = if query.is_empty() { "?" } else { "&" };
        let path = match &cursor {
            Some(c) => format!("/api/v1/tenders{query}{sep}limit=37&cursor={c}"),
            None => format!("/api/v1/tenders{query}{sep}limit=37"),
        };
        let page: Value = app.get(&path, None).await?.json().await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(items),
        }
    }
    anyhow::bail!("pagination did not end")
}

#[tokio::test]
async fn the_public_list_pages_through_every_published_tender_once_newest_first() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    seed(&app).await?;
    let all = all_pages(&app, "").await?;
    assert_eq!(all.len(), TOTAL, "drafts listed or tenders lost");
    let ids: HashSet<&str> = all.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids.len(), TOTAL, "a tender appeared twice");
    let published: Vec<&str> = all
        .iter()
        .filter_map(|t| t["published_at"].as_str())
        .collect();
    assert!(
        published.windows(2).all(|w| w[0] >= w[1]),
        "not newest first"
    );

    assert_eq!(
        all_pages(&app, "?kind=goods").await?.len(),
        TOTAL.div_ceil(3)
    );
    assert_eq!(all_pages(&app, "?q=医院").await?.len(), TOTAL.div_ceil(4));
    assert_eq!(
        all_pages(&app, "?status=cancelled").await?.len(),
        TOTAL.div_ceil(10)
    );
    let goods_hospital = all_pages(&app, "?kind=goods&q=%E5%8C%BB%E9%99%A2&status=active").await?;
    let expected = (0..TOTAL)
        .filter(|i| i % 3 == 0 && i % 4 == 0 && i % 10 != 0)
        .count();
    assert_eq!(goods_hospital.len(), expected);
    assert_eq!(all_pages(&app, "?procedure=auction").await?.len(), 0);
    Ok(())
}

#[tokio::test]
async fn bad_list_filters_and_cursors_are_422_naming_them() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    for (query, field) in [
        ("kind=ships", "kind"),
        ("status=open", "status"),
        ("procedure=x", "procedure"),
        ("cursor=%%%", "cursor"),
    ] {
        let res = app.get(&format!("/api/v1/tenders?{query}"), None).await?;
        let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
        assert_eq!(problem["field"], field, "{query}");
    }
    let res = app.get("/api/v1/tenders?mine=true", None).await?;
    assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    Ok(())
}
