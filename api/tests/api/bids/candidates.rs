//! The result's publicity and the objections to it (docs/spec/evaluation.md "Candidates and
//! objections"). The lot here is government procurement (goods): the result notice runs 1 working
//! day with the committee's names (87号令 Art 69); a bidder challenges (质疑) until 7 working days
//! after it, and the procedure is suspended until the purchaser answers; an answer not given in 7
//! working days is recorded as overdue by the chronograph; after that nobody challenges any more
//! (政府采购法 Art 52–53). Times are read from the signed record: working days depend on the date.

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
    supervisor: &str,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/tenders/{tender}/lots/1/candidates");
    let public: Value = app.get(&path, None).await?.json().await?;
    assert_eq!(public["status"], "publicity", "{public}");
    let record = &public["record"];
    assert_eq!(record["candidates"].as_array().map(Vec::len), Some(3));
    assert_eq!(record["candidates"][0]["rank"], 1);
    assert_eq!(record["notice"], "result", "GP publishes a result notice");
    assert_eq!(
        record["committee"].as_array().map(Vec::len),
        Some(5),
        "87号令 Art 69: the committee's names with the result: {record}"
    );
    let at = |field: &str| -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
        Ok(text(&record[field]).parse()?)
    };
    let (published, ends, close) = (
        at("published_at")?,
        at("publicity_ends_at")?,
        at("objections_close_at")?,
    );
    assert!(
        ends - published >= TimeDelta::days(1) && ends - published < TimeDelta::days(10),
        "87号令 Art 69: one working day, {published} → {ends}"
    );
    assert!(
        close - ends >= TimeDelta::days(7),
        "政府采购法 Art 52: seven working days to challenge, {ends} → {close}"
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

    // No complaint before the answer or its deadline (实施条例 Art 60).
    let complaints = format!("/api/v1/tenders/{tender}/lots/1/complaints");
    let complaint =
        json!({"objection_id": first, "body": "异议答复未解决资质问题，请求监督部门处理。"});
    let res = app.post(&complaints, &complaint, Some(bidders[2])).await?;
    assert_problem(res, StatusCode::CONFLICT, "wrong_phase").await?;

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

    // Unsatisfied, the objector complains to the supervisors, once (实施条例 Art 60–61).
    let res = app.post(&complaints, &complaint, Some(bidders[0])).await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    let res = app.post(&complaints, &complaint, Some(bidders[2])).await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let filed: Value = res.json().await?;
    assert_eq!(filed["status"], "filed");
    let res = app.post(&complaints, &complaint, Some(bidders[2])).await?;
    assert_problem(res, StatusCode::CONFLICT, "complaint_exists").await?;
    let notes = app
        .get("/api/v1/notifications", Some(supervisor))
        .await?
        .text()
        .await?;
    assert!(notes.contains("complaint.filed"), "{notes}");
    for (token, n) in [
        (owner, 1),
        (supervisor, 1),
        (bidders[2], 1),
        (bidders[0], 0),
    ] {
        let list = seen(app, &complaints, Some(token)).await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(n), "{list}");
    }
    // Only supervisors rule; a decision follows acceptance; accepted with a suspension, the
    // procedure waits for the decision (政府采购法 Art 57).
    let one = format!("{complaints}/{}", text(&filed["complaint_id"]));
    let res = app
        .post(
            &format!("{one}/acceptance"),
            &json!({"accepted": true, "suspend": true}),
            Some(owner),
        )
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    let decide = json!({"upheld": false, "decision": "经调查，资质证书在有效期内，投诉不成立。"});
    let res = app
        .post(&format!("{one}/decision"), &decide, Some(supervisor))
        .await?;
    assert_problem(res, StatusCode::CONFLICT, "wrong_phase").await?;
    let res = app
        .post(
            &format!("{one}/acceptance"),
            &json!({"accepted": true, "suspend": true}),
            Some(supervisor),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    assert_eq!(seen(app, &path, None).await?["status"], "suspended");
    let res = app
        .post(&format!("{one}/decision"), &decide, Some(supervisor))
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);
    assert_eq!(res.json::<Value>().await?["status"], "dismissed");
    assert_eq!(seen(app, &path, None).await?["status"], "publicity");
    let notes = app
        .get("/api/v1/notifications", Some(bidders[2]))
        .await?
        .text()
        .await?;
    assert!(notes.contains("complaint.decide"), "{notes}");

    // A second challenge left unanswered: overdue after 7 working days, and the procedure stays
    // suspended past the end of the notice.
    let res = app
        .post(
            &objections,
            &json!({"body": "评分存在明显错误。"}),
            Some(bidders[1]),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let raised: Value = res.json().await?;
    let second = text(&raised["objection_id"]);
    let due: chrono::DateTime<chrono::Utc> = text(&raised["answer_due"]).parse()?;
    assert!(
        due - app.state.now() >= TimeDelta::days(7),
        "7 working days to answer"
    );
    app.clock
        .advance(due - app.state.now() + TimeDelta::minutes(1));
    drain(app).await?;
    let owner_view = seen(app, &path, Some(owner)).await?;
    assert_eq!(owner_view["status"], "suspended", "{owner_view}");
    assert_eq!(owner_view["objections"][1]["overdue"], true, "{owner_view}");
    // Its deadline passed unanswered: the objector may complain now.
    let res = app
        .post(
            &complaints,
            &json!({"objection_id": second, "body": "异议逾期未答复。"}),
            Some(bidders[1]),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
    let accept_due: chrono::DateTime<chrono::Utc> =
        text(&res.json::<Value>().await?["accept_due"]).parse()?;
    // After the challenge period nobody challenges any more.
    app.clock
        .advance((close - app.state.now()).max(TimeDelta::zero()) + TimeDelta::minutes(1));
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
    // Nobody accepts the second complaint within 3 working days: the chronograph says so.
    app.clock
        .advance((accept_due - app.state.now()).max(TimeDelta::zero()) + TimeDelta::minutes(1));
    drain(app).await?;
    let list = seen(app, &complaints, Some(supervisor)).await?;
    assert_eq!(list["items"][1]["overdue"], true, "{list}");
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
    assert_eq!(
        view["status"], "complete",
        "every awarded lot has its contract"
    );
    app.assert_ledger_sound().await?;
    Ok(())
}
