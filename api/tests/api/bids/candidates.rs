//! The candidates' publicity and objections (实施条例 Art 54; docs/spec/evaluation.md "Candidates
//! and objections"): published with the signed report for 3 days, signed by the platform; a
//! bidder objects within the period and the procedure is suspended until the tenderer answers; an
//! answer not given in 3 days is recorded as overdue by the chronograph; after the period nobody
//! objects any more.

use base64::Engine as _;
use chrono::TimeDelta;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::drain;
use crate::helpers::{TestApp, assert_problem, text};

/// Runs after the report of lot 1 of `tender` is signed; `bidders` are tokens of its bidders,
/// `outsider` a signed-in account that did not bid.
async fn seen(app: &TestApp, path: &str, token: Option<&str>) -> anyhow::Result<Value> {
    Ok(app.get(path, token).await?.json().await?)
}

pub(super) async fn publicity_and_objections(
    app: &TestApp,
    tender: &str,
    owner: &str,
    bidders: &[&str],
    outsider: &str,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/tenders/{tender}/lots/1/candidates");
    let public: Value = app.get(&path, None).await?.json().await?;
    assert_eq!(public["status"], "publicity", "{public}");
    let record = &public["record"];
    assert_eq!(record["candidates"].as_array().map(Vec::len), Some(3));
    assert_eq!(record["candidates"][0]["rank"], 1);
    let published: chrono::DateTime<chrono::Utc> = text(&record["published_at"]).parse()?;
    let ends: chrono::DateTime<chrono::Utc> = text(&record["publicity_ends_at"]).parse()?;
    assert_eq!(
        ends - published,
        TimeDelta::days(3),
        "Art 54: at least 3 days"
    );
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    let platform = base64::engine::general_purpose::STANDARD
        .decode(text(&keys["receipt_key"]["public_key"]))?;
    let mut unsigned = record.clone();
    unsigned.as_object_mut().map(|o| o.remove("signature"));
    assert!(tenderhall_domain::keys::verify_ed25519(
        &platform,
        tenderhall_domain::canonical::to_canonical_string(&unsigned).as_bytes(),
        &text(&record["signature"])
    ));

    // Only a bidder of the lot objects.
    let objections = format!("{path}/objections");
    let res = app
        .post(&objections, &json!({"body": "无理由"}), Some(owner))
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    let res = app
        .post(&objections, &json!({"body": " "}), Some(bidders[2]))
        .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    let res = app
        .post(
            &objections,
            &json!({"body": "第一名投标人的资质证书已过期，不应通过符合性审查。"}),
            Some(bidders[2]),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let raised: Value = res.json().await?;
    let first = text(&raised["objection_id"]);
    // Suspended for everyone; the objection itself only for the owner and the objector.
    assert_eq!(seen(app, &path, None).await?["status"], "suspended");
    assert_eq!(seen(app, &path, None).await?["objections"], json!([]));
    assert_eq!(
        seen(app, &path, Some(bidders[0])).await?["objections"],
        json!([])
    );
    assert_eq!(
        seen(app, &path, Some(owner)).await?["objections"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        seen(app, &path, Some(bidders[2])).await?["objections"][0]["objection_id"],
        first
    );
    let notes: Value = app
        .get("/api/v1/notifications", Some(owner))
        .await?
        .json()
        .await?;
    assert!(notes.to_string().contains("objection.raised"));

    // The owner answers; the procedure resumes.
    let answer = format!("{objections}/{first}/answer");
    let res = app
        .post(
            &answer,
            &json!({"answer": "已核实资质证书在有效期内。"}),
            Some(bidders[0]),
        )
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    let res = app
        .post(
            &answer,
            &json!({"answer": "已核实资质证书在有效期内。"}),
            Some(owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    let res = app
        .post(&answer, &json!({"answer": "再次答复"}), Some(owner))
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "already_answered").await?;
    assert_eq!(seen(app, &path, None).await?["status"], "publicity");

    // A second objection left unanswered: overdue at 3 days, and the procedure stays suspended
    // past the end of the period.
    let res = app
        .post(
            &objections,
            &json!({"body": "评分存在明显错误。"}),
            Some(bidders[1]),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let second = text(&res.json::<Value>().await?["objection_id"]);
    app.clock
        .advance(TimeDelta::days(3) + TimeDelta::minutes(1));
    drain(app).await?;
    let owner_view = seen(app, &path, Some(owner)).await?;
    assert_eq!(owner_view["status"], "suspended", "{owner_view}");
    assert_eq!(owner_view["objections"][1]["overdue"], true, "{owner_view}");
    // After the period nobody objects any more.
    let res = app
        .post(
            &objections,
            &json!({"body": "迟到的异议"}),
            Some(bidders[0]),
        )
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "publicity_closed").await?;
    let res = app
        .post(&objections, &json!({"body": "x"}), Some(outsider))
        .await?;
    assert!(res.status() == StatusCode::FORBIDDEN || res.status() == StatusCode::NOT_FOUND);
    let res = app
        .post(
            &format!("{objections}/{second}/answer"),
            &json!({"answer": "经复核，评分无误。"}),
            Some(owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(seen(app, &path, None).await?["status"], "ended");
    Ok(())
}

/// After the publicity (招标投标法 Art 45–46; 实施条例 Art 55, 58): the owner names the first-ranked
/// candidate (a later one only with the reason), the platform signs the award notice, the winner
/// and the others are told, the committee's draw becomes public; the chronograph reminds of the
/// contract; the contract is recorded with a bond of at most 10 %.
pub(super) async fn award_and_contract(
    app: &TestApp,
    tender: &str,
    draw: &str,
    owner: &str,
    bidders: &[&str],
) -> anyhow::Result<()> {
    let list: Value = app
        .get(&format!("/api/v1/tenders/{tender}/lots/1/candidates"), None)
        .await?
        .json()
        .await?;
    let first = text(&list["record"]["candidates"][0]["bidder_id"]);
    let second = text(&list["record"]["candidates"][1]["bidder_id"]);
    let path = format!("/api/v1/tenders/{tender}/lots/1/award");
    assert_problem(
        app.get(&path, None).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let res = app
        .post(&path, &json!({"bidder_id": first}), Some(bidders[0]))
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    let res = app
        .post(&path, &json!({"bidder_id": "org_nobody"}), Some(owner))
        .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    let res = app
        .post(&path, &json!({"bidder_id": second}), Some(owner))
        .await?;
    assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "first_ranked_passed_over",
    )
    .await?;
    // The committee stays secret until the result: the proof is not public yet.
    let proof = format!("/api/v1/draws/{draw}/proof");
    assert_ne!(app.get(&proof, None).await?.status(), StatusCode::OK);
    let res = app
        .post(&path, &json!({"bidder_id": first}), Some(owner))
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let notice: Value = res.json().await?;
    assert_eq!(notice["winner"]["bidder_id"], first);
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    let platform = base64::engine::general_purpose::STANDARD
        .decode(text(&keys["receipt_key"]["public_key"]))?;
    let mut unsigned = notice.clone();
    unsigned.as_object_mut().map(|o| o.remove("signature"));
    assert!(tenderhall_domain::keys::verify_ed25519(
        &platform,
        tenderhall_domain::canonical::to_canonical_string(&unsigned).as_bytes(),
        &text(&notice["signature"])
    ));
    let res = app
        .post(&path, &json!({"bidder_id": first}), Some(owner))
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "already_awarded").await?;
    let public: Value = app.get(&path, None).await?.json().await?;
    assert_eq!(public["award"], notice);
    assert!(public["contract"].is_null());
    assert_eq!(
        app.get(&proof, None).await?.status(),
        StatusCode::OK,
        "the draw is final"
    );
    let view: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(view["lots"][0]["status"], "awarded");
    assert_eq!(
        view["status"], "awarded",
        "its only lot awarded, the tender is awarded (API status)"
    );
    // The winner gets the award notice, the others the result.
    for token in bidders {
        let notes = app
            .get("/api/v1/notifications", Some(token))
            .await?
            .text()
            .await?;
        assert!(
            notes.contains("award.notice") || notes.contains("award.result"),
            "{notes}"
        );
    }

    // 23 days on, with no contract yet, the owner is reminded.
    app.clock
        .advance(TimeDelta::days(23) + TimeDelta::minutes(1));
    drain(app).await?;
    let notes = app
        .get("/api/v1/notifications", Some(owner))
        .await?
        .text()
        .await?;
    assert!(notes.contains("contract.reminder"), "{notes}");
    let contract = format!("/api/v1/tenders/{tender}/lots/1/contract");
    let res = app
        .post(
            &contract,
            &json!({"contract_price": "100000.00", "performance_bond": "10000.01"}),
            Some(owner),
        )
        .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "bond_too_high").await?;
    let res = app
        .post(
            &contract,
            &json!({"contract_price": "100000.00", "performance_bond": "10000.00"}),
            Some(owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let recorded: Value = res.json().await?;
    assert_eq!(recorded["within_period"], true);
    assert_eq!(recorded["performance_bond"], "10000.00");
    let res = app
        .post(&contract, &json!({"contract_price": "1.00"}), Some(owner))
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "already_answered").await?;
    let public: Value = app.get(&path, None).await?.json().await?;
    assert_eq!(public["contract"], recorded);
    let view: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(view["status"], "complete", "every awarded lot has its contract");
    app.assert_ledger_sound().await?;
    Ok(())
}
