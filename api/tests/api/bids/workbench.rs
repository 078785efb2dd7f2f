//! The workbenches' forms over HTTP (docs/portal.md): a bidder registers, asks for the fee
//! account and asks a question through the bid page; the owner answers it, previews an amendment
//! (实施条例 Art 21: 15 days left to the deadline), confirms it and sees the deadline moved; the
//! bidder withdraws its bid through the page; the owner cancels with a reason. Each form calls the
//! service the API calls, so the API reads back what the page did.

use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::visitor::{Visitor, field_value};

#[tokio::test]
async fn the_workbench_forms_register_ask_answer_amend_withdraw_and_cancel() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@workbench.test", "tenderer").await?;
    let tender = app
        .publish_tender(
            &owner,
            &json!({
                "title": "工作台测试", "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
                "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
                "document_fee": "50", "region": "330100",
                "bid_deadline": (app.state.now() + TimeDelta::days(25)).to_rfc3339(),
            }),
        )
        .await?;
    let bid_path = format!("/workbench/bids/{tender}/1");

    // A bidder registers and asks through its page.
    let (token, _) = app.member("bidder@workbench.test", "bidder").await?;
    let mut bidder_page = Visitor::signed_in(&app, &token)?;
    let page = bidder_page
        .submit(&format!("{bid_path}/register"), &[])
        .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("id=\"deposit-account\""),
        "the deposit account is shown"
    );
    let page = bidder_page.submit(&format!("{bid_path}/fee"), &[]).await?;
    assert!(page.body.contains("id=\"fee-account\""), "{}", page.body);
    // The bidder's workbench lists the registration under its tender's title.
    let front = bidder_page.get("/workbench").await?;
    assert_eq!(front.status, StatusCode::OK);
    assert!(front.body.contains("工作台测试"), "{}", front.body);
    let question = "交货地点是否包含县城以外的学校？";
    let page = bidder_page
        .submit(&format!("{bid_path}/question"), &[("question", question)])
        .await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"notice\""));
    let regs: Value = app
        .get(&format!("/api/v1/tenders/{tender}/questions"), Some(&owner))
        .await?
        .json()
        .await?;
    let question_id = text(&regs["items"][0]["question_id"]);

    // The owner answers on its workbench; the public page shows the answer, never the asker.
    let mut owner_page = Visitor::signed_in(&app, &owner)?;
    let manage = owner_page
        .get(&format!("/workbench/tenders/{tender}"))
        .await?;
    assert!(
        manage.body.contains(question),
        "the owner reads the question to answer"
    );
    let res = owner_page
        .submit(
            &format!("/workbench/tenders/{tender}/questions/{question_id}/answer"),
            &[("answer", "包含，详见附件清单。")],
        )
        .await?;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let public = Visitor::new(&app)?
        .get(&format!("/tenders/{tender}"))
        .await?;
    assert!(public.body.contains("包含，详见附件清单。"));
    assert!(!public.body.contains("bidder@workbench.test"));

    // Ten days before the deadline, an amendment that may affect bids: the preview says the
    // deadline moves to 15 days away, nothing is published until it is confirmed.
    app.clock.advance(TimeDelta::days(15));
    // Sessions last hours: the owner signs in again.
    let owner = app
        .sign_in("owner@workbench.test", crate::helpers::PASSWORD)
        .await?;
    let mut owner_page = Visitor::signed_in(&app, &owner)?;
    let before: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    let preview = owner_page
        .submit(
            &format!("/workbench/tenders/{tender}/amendments"),
            &[
                ("title", "技术参数修改"),
                ("body", "第三章参数调整。"),
                ("affects_bids", "1"),
                ("bid_deadline", ""),
            ],
        )
        .await?;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body.contains("id=\"deadline-effect\""),
        "{}",
        preview.body
    );
    assert!(
        preview
            .body
            .contains("class=\"error\" id=\"deadline-effect\""),
        "the deadline moves"
    );
    let amendments: Value = app
        .get(&format!("/api/v1/tenders/{tender}/amendments"), None)
        .await?
        .json()
        .await?;
    assert_eq!(
        amendments["items"].as_array().map(Vec::len),
        Some(1),
        "only the answer so far"
    );
    let confirmed = owner_page
        .submit(
            &format!("/workbench/tenders/{tender}/amendments"),
            &[
                (
                    "title",
                    field_value(&preview.body, "title")
                        .unwrap_or_default()
                        .as_str(),
                ),
                ("body", "第三章参数调整。"),
                ("affects_bids", "1"),
                ("bid_deadline", ""),
                ("confirm", "1"),
            ],
        )
        .await?;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
    let after: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    let moved: chrono::DateTime<chrono::Utc> = text(&after["bid_deadline"]).parse()?;
    assert_ne!(before["bid_deadline"], after["bid_deadline"]);
    assert!(
        moved >= app.state.now() + TimeDelta::days(15),
        "Art 21: 15 days left"
    );

    // A bid submitted with the API is withdrawn through the page.
    let b = bidder(&app, "sealer@workbench.test", &tender).await?;
    let key = opening_key(&app, &tender).await?;
    let res = put_bid(
        &app,
        &b,
        &tender,
        sealed_bid(&b, &tender, &key, "90000.00")?,
    )
    .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let mut sealer_page = Visitor::signed_in(&app, &b.token)?;
    let page = sealer_page
        .get(&format!("/workbench/bids/{tender}/1"))
        .await?;
    assert!(
        page.body.contains("id=\"current-bid\""),
        "the current bid is shown"
    );
    let page = sealer_page
        .submit(&format!("/workbench/bids/{tender}/1/withdraw"), &[])
        .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("id=\"current-bid\""), "withdrawn");
    let res = app
        .get(
            &format!("/api/v1/tenders/{tender}/lots/1/bid"),
            Some(&b.token),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The owner cancels with a reason, published.
    let res = owner_page
        .submit(
            &format!("/workbench/tenders/{tender}/cancel"),
            &[("reason", "预算调整，项目取消。")],
        )
        .await?;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let cancelled: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "预算调整，项目取消。");
    let refused = owner_page
        .submit(
            &format!("/workbench/tenders/{tender}/cancel"),
            &[("reason", "再次")],
        )
        .await?;
    assert_eq!(
        refused.status,
        StatusCode::CONFLICT,
        "a refusal is shown on the page"
    );
    assert!(
        refused.body.contains("data-code=\"not_cancellable\""),
        "{}",
        refused.body
    );
    app.assert_ledger_sound().await?;
    Ok(())
}
