//! Calls the auction tests share: bids and their answers, the auction's state, fresh sessions,
//! the refunds an operator sees.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, text};

pub async fn bid(
    app: &TestApp,
    token: &str,
    tender: &str,
    amount: &str,
) -> anyhow::Result<reqwest::Response> {
    app.post(
        &format!("/api/v1/tenders/{tender}/lots/1/auction/bids"),
        &json!({"amount": amount}),
        Some(token),
    )
    .await
}

pub async fn accepted(
    app: &TestApp,
    token: &str,
    tender: &str,
    amount: &str,
) -> anyhow::Result<Value> {
    let res = bid(app, token, tender, amount).await?;
    anyhow::ensure!(
        res.status() == StatusCode::CREATED,
        "bid {amount}: {}",
        res.text().await?
    );
    Ok(res.json().await?)
}

pub async fn refused(
    app: &TestApp,
    token: &str,
    tender: &str,
    amount: &str,
    status: StatusCode,
    code: &str,
) -> anyhow::Result<()> {
    assert_problem(bid(app, token, tender, amount).await?, status, code).await?;
    Ok(())
}

pub async fn auction(app: &TestApp, tender: &str, token: Option<&str>) -> anyhow::Result<Value> {
    Ok(app
        .get(&format!("/api/v1/tenders/{tender}/lots/1/auction"), token)
        .await?
        .json()
        .await?)
}

/// Fresh tokens for `emails` (sessions expire while the clock moves days ahead).
pub async fn again<const N: usize>(
    app: &TestApp,
    emails: [&str; N],
) -> anyhow::Result<[String; N]> {
    let mut tokens = Vec::with_capacity(N);
    for email in emails {
        tokens.push(app.sign_in(email, crate::helpers::PASSWORD).await?);
    }
    tokens
        .try_into()
        .map_err(|_| anyhow::anyhow!("one token per email"))
}

/// The refunds booked for the tender, as an operator follows them.
pub async fn refunds_of(app: &TestApp, tender: &str) -> anyhow::Result<Value> {
    let operator = app.operator().await?;
    Ok(app
        .get(
            &format!("/api/v1/bank/refunds?tender_id={tender}"),
            Some(&operator),
        )
        .await?
        .json()
        .await?)
}

pub fn at(v: &Value) -> anyhow::Result<DateTime<Utc>> {
    Ok(text(v).parse()?)
}
