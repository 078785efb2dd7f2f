//! The expert pool (issue "Evaluation experts"; docs/experts.md): the operators' CSV import, with
//! every bad row reported by line and changing nothing; the activation mail; what experts keep
//! current themselves; the operators' suspension (政府采购法实施条例 Art 9).

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenderhall_domain::account::credit_code_check;

use crate::helpers::{TestApp, TestResult, assert_problem, text};

pub const HEADER: &str = "expert_id,name,email,specialty,region,employer_credit_code,title,years";

/// A valid unified social credit code, different for each `n`.
pub fn credit_code(n: u32) -> String {
    let first17 = format!("91330100MA{n:07}");
    let check = credit_code_check(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// One CSV row of an expert.
pub fn row(id: &str, specialty: &str, employer: &str) -> String {
    format!("{id},专家{id},{id}@experts.test,{specialty},330100,{employer},高级工程师,12")
}

/// Imports `rows` (without the header) as the operator; returns the answer.
pub async fn import(app: &TestApp, operator: &str, rows: &[String]) -> anyhow::Result<Value> {
    let body = format!("{HEADER}\n{}\n", rows.join("\n"));
    let res = app
        .request(
            reqwest::Method::POST,
            "/api/v1/experts/import",
            Some(operator),
        )
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::OK,
        "import: {}",
        res.text().await?
    );
    Ok(res.json().await?)
}

/// The password-setting token of the activation mail sent to `email`.
pub fn activation_token(app: &TestApp, email: &str) -> anyhow::Result<String> {
    let mail = app
        .outbox()?
        .into_iter()
        .find(|m| m.contains(&format!("To: {email}")) && m.contains("?token="))
        .ok_or_else(|| anyhow::anyhow!("no activation mail to {email}"))?;
    let start = mail.find("?token=").unwrap_or(0) + "?token=".len();
    Ok(mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect())
}

/// Activates an imported expert and signs it in; returns its token.
pub async fn activate(app: &TestApp, email: &str) -> anyhow::Result<String> {
    let token = activation_token(app, email)?;
    let res = app
        .post(
            &format!("/api/v1/password-resets/{token}"),
            &json!({"password": "expert-pass-2027"}),
            None,
        )
        .await?;
    anyhow::ensure!(
        res.status() == StatusCode::NO_CONTENT,
        "activation of {email}: {}",
        res.text().await?
    );
    app.sign_in(email, "expert-pass-2027").await
}

#[tokio::test]
async fn an_import_of_50000_rows_takes_every_good_row_and_reports_every_bad_one_by_line()
-> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let mut rows = Vec::with_capacity(50_000);
    let mut bad_lines = Vec::new();
    for i in 0..50_000u32 {
        let id = format!("exp_{i:05}");
        // Line numbers count the header as line 1.
        let line = u64::from(i) + 2;
        let row = match i % 997 {
            1 => {
                bad_lines.push(line);
                format!(
                    "{id},专家,{id}@experts.test,a01,330100,{},工程师,5",
                    credit_code(i)
                )
            }
            2 => {
                bad_lines.push(line);
                format!(
                    "{id},专家,not-an-email,A01,330100,{},工程师,5",
                    credit_code(i)
                )
            }
            3 => {
                bad_lines.push(line);
                // A wrong check character (GB 32100-2015).
                let mut code = credit_code(i);
                let last = if code.ends_with('0') { '1' } else { '0' };
                code.pop();
                code.push(last);
                format!("{id},专家,{id}@experts.test,A01,330100,{code},工程师,5")
            }
            4 => {
                bad_lines.push(line);
                format!(
                    "{id},专家,{id}@experts.test,A01,330100,{},工程师,many",
                    credit_code(i)
                )
            }
            5 => {
                bad_lines.push(line);
                // The id of the first row again.
                row("exp_00000", "A01", &credit_code(i)).replace("exp_00000@", "other@")
            }
            _ => row(&id, "A01.02;B07", &credit_code(i % 5000)),
        };
        rows.push(row);
    }
    let answer = import(&app, &operator, &rows).await?;
    let rejected: Vec<u64> = answer["rejected"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r["line"].as_u64())
        .collect();
    assert_eq!(rejected, bad_lines, "every bad row, by line");
    assert_eq!(answer["imported"], 50_000 - bad_lines.len() as u64);
    for r in answer["rejected"].as_array().cloned().unwrap_or_default() {
        assert!(!text(&r["reason"]).is_empty(), "{r}");
    }
    // A rejected row changed nothing; a good one is in, with its specialties.
    let res = app
        .get("/api/v1/experts/exp_00001", Some(&operator))
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    let res = app
        .get("/api/v1/experts/exp_00010", Some(&operator))
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let expert: Value = res.json().await?;
    assert_eq!(expert["specialties"], json!(["A01.02", "B07"]));
    assert_eq!(expert["status"], "active");

    // Importing a row again updates the expert: nothing is duplicated.
    let again = import(
        &app,
        &operator,
        &[row("exp_00010", "C", &credit_code(10)).replace("高级工程师", "教授")],
    )
    .await?;
    assert_eq!(again["imported"], 1);
    let expert: Value = app
        .get("/api/v1/experts/exp_00010", Some(&operator))
        .await?
        .json()
        .await?;
    assert_eq!(expert["title"], "教授");
    assert_eq!(expert["specialties"], json!(["C"]));
    Ok(())
}

#[tokio::test]
async fn only_operators_import_and_a_file_that_is_not_the_pools_is_refused_whole() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let (tenderer, _) = app.member("t@zhaobiao.test", "tenderer").await?;
    let csv = format!("{HEADER}\n{}\n", row("exp_1", "A01", &credit_code(1)));
    let send = |token: String, content_type: &'static str, body: String| {
        app.request(
            reqwest::Method::POST,
            "/api/v1/experts/import",
            Some(&token),
        )
        .header("content-type", content_type)
        .body(body)
        .send()
    };
    let res = send(tenderer, "text/csv", csv.clone()).await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    let res = send(operator.clone(), "application/json", csv).await?;
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    let res = send(operator.clone(), "text/csv", String::new()).await?;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert_eq!(body["field"], "csv");
    let res = send(
        operator.clone(),
        "text/csv",
        "expert_id,name\nexp_1,A\n".to_owned(),
    )
    .await?;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    assert!(text(&body["detail"]).contains("email"), "{body}");
    let list: Value = app
        .get("/api/v1/experts", Some(&operator))
        .await?
        .json()
        .await?;
    assert_eq!(list["items"], json!([]), "nothing was imported");
    Ok(())
}

#[tokio::test]
async fn an_imported_expert_activates_by_mail_and_keeps_its_availability_relationships_and_key()
-> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    import(&app, &operator, &[row("exp_wang", "A01", &credit_code(7))]).await?;
    app.drain().await?;
    let expert = activate(&app, "exp_wang@experts.test").await?;
    let me: Value = app
        .get("/api/v1/experts/me", Some(&expert))
        .await?
        .json()
        .await?;
    assert_eq!(me["expert_id"], "exp_wang");

    let res = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/experts/me/availability",
            Some(&expert),
        )
        .json(&json!({"unavailable": ["2027-03-01", "2027-03-02"]}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(reqwest::Method::PUT, "/api/v1/experts/me/relationships", Some(&expert))
        .json(&json!({"former_employers": [{"credit_code": credit_code(9), "ended_on": "2025-01-31"}], "relatives_employers": [credit_code(11)]}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await?;
    assert_eq!(me["unavailable"], json!(["2027-03-01", "2027-03-02"]));
    assert_eq!(me["former_employers"][0]["ended_on"], "2025-01-31");
    assert_eq!(me["relatives_employers"], json!([credit_code(11)]));
    // A relative's employer with a wrong check character is refused and changes nothing.
    let res = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/experts/me/relationships",
            Some(&expert),
        )
        .json(&json!({"relatives_employers": ["91330100MA0000011X"]}))
        .send()
        .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    let me: Value = app
        .get("/api/v1/experts/me", Some(&expert))
        .await?
        .json()
        .await?;
    assert_eq!(me["relatives_employers"], json!([credit_code(11)]));

    let res = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/experts/me/signing-key",
            Some(&expert),
        )
        .json(&json!({"public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        text(&res.json::<Value>().await?["signing_key_id"]).len(),
        64
    );

    // Operators suspend with a reason and reinstate; others may not.
    let res = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/experts/exp_wang/suspension",
            Some(&expert),
        )
        .json(&json!({"until": "2027-12-31", "reason": "违规"}))
        .send()
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    let res = app
        .request(
            reqwest::Method::PUT,
            "/api/v1/experts/exp_wang/suspension",
            Some(&operator),
        )
        .json(&json!({"until": "2027-12-31", "reason": "评标中违规，暂停一年"}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await?["status"], "suspended");
    // Someone who is not an expert has no expert profile.
    let res = app.get("/api/v1/experts/me", Some(&operator)).await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    Ok(())
}
