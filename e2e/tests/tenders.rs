//! A tenderer publishes an accelerated tender on the real binary; the public list shows it, and
//! a restart keeps it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenderhall_e2e::Site;

#[tokio::test]
async fn an_accelerated_tender_published_on_a_sandbox_is_listed_and_survives_a_restart()
-> anyhow::Result<()> {
    let site = Site::new().await?;
    let client = reqwest::Client::new();
    let server = site.serve(&["--sandbox"]).await?;

    let account = json!({
        "email": "zhaobiao@tenderer.test", "password": "correct-horse-42", "name": "赵六",
        "organization": {"name": "某市住房和城乡建设局", "kind": "tenderer", "credit_code": "11320000MB0000000D"}
    });
    let res = client
        .post(server.url("/api/v1/accounts"))
        .json(&account)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session: Value = client
        .post(server.url("/api/v1/sessions"))
        .json(&json!({"email": "zhaobiao@tenderer.test", "password": "correct-horse-42"}))
        .send()
        .await?
        .json()
        .await?;
    let token = session["token"].as_str().unwrap_or_default().to_owned();

    // 20 days at 86,400 is 20 seconds: a deadline 30 seconds away is long enough.
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(30);
    let tender = json!({
        "title": "演示：社区活动中心施工招标",
        "kind": "construction", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
        "lots": [{"id": "1", "title": "施工", "budget": {"amount": "3000000.00", "currency": "CNY"}, "deposit": {"amount": "60000.00", "currency": "CNY"}}],
        "document_fee": {"amount": "0.00", "currency": "CNY"},
        "bid_deadline": deadline.to_rfc3339(),
        "accelerator": 86400
    });
    let res = client
        .post(server.url("/api/v1/tenders"))
        .bearer_auth(&token)
        .json(&tender)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let res = client
        .post(server.url(&format!("/api/v1/tenders/{id}/publish")))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await?);

    let listed: Value = client
        .get(server.url("/api/v1/tenders?q=社区"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(listed["items"][0]["status"], "active");
    server.stop().await?;

    let server = site.serve(&["--sandbox"]).await?;
    let listed: Value = client
        .get(server.url("/api/v1/tenders"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let one: Value = client
        .get(server.url(&format!("/api/v1/tenders/{id}")))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(one["accelerator"], 86400);
    assert_eq!(one["lots"][0]["deposit"]["amount"], "60000.00");
    server.stop().await?;
    Ok(())
}
