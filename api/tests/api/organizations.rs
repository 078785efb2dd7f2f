//! Roles and organization verification (docs/spec/api-contract.md "Accounts and keys", "Operators").

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResult, assert_problem};

#[tokio::test]
async fn members_operators_and_supervisors_read_an_organization_others_do_not() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (member, org) = app.member("qian@bidder.test", "bidder").await?;
    let (outsider, _) = app.member("li@tenderer.test", "tenderer").await?;
    let path = format!("/api/v1/organizations/{org}");

    for token in [&member, &operator, &supervisor] {
        let res = app.get(&path, Some(token)).await?;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await?;
        assert_eq!(body["id"], org.as_str());
        assert_eq!(body["kind"], "bidder");
        assert_eq!(body["credit_code"], "91110000100000000R");
        assert_eq!(body["basic_account"], "6222020012345678");
        assert_eq!(body["verified"], false);
    }
    assert_problem(
        app.get(&path, Some(&outsider)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    assert_problem(
        app.get(&path, None).await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn only_an_operator_verifies_an_organization() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let (bidder, org) = app.member("he@bidder.test", "bidder").await?;
    let verify = format!("/api/v1/organizations/{org}/verify");

    assert_problem(
        app.post(&verify, &json!({}), Some(&bidder)).await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let pending: Value = app
        .get("/api/v1/organizations?verified=false", Some(&operator))
        .await?
        .json()
        .await?;
    assert!(
        pending["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|o| o["id"] == org.as_str()))
    );

    let res = app.post(&verify, &json!({}), Some(&operator)).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await?;
    assert_eq!(body["verified"], true);
    let me: Value = app
        .get("/api/v1/sessions/current", Some(&bidder))
        .await?
        .json()
        .await?;
    assert_eq!(me["organization"]["verified"], true);

    let res = app
        .post(
            "/api/v1/organizations/org_nonexistent/verify",
            &json!({}),
            Some(&operator),
        )
        .await?;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}

#[tokio::test]
async fn non_operators_cannot_list_organizations() -> TestResult {
    let app = TestApp::spawn().await?;
    let (bidder, _) = app.member("he@bidder.test", "bidder").await?;
    let res = app.get("/api/v1/organizations", Some(&bidder)).await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    Ok(())
}

#[tokio::test]
async fn an_unverified_supervisor_organization_gets_no_supervisor_rights() -> TestResult {
    let app = TestApp::spawn().await?;
    let (_, other_org) = app.member("target@bidder.test", "bidder").await?;
    let (unverified, _) = app
        .member("self-made@supervisor.test", "supervisor")
        .await?;
    let res = app
        .get(
            &format!("/api/v1/organizations/{other_org}"),
            Some(&unverified),
        )
        .await?;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await?;
    Ok(())
}

fn public_key() -> anyhow::Result<String> {
    use ring::signature::KeyPair;
    let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("keygen"))?;
    let pair = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("pkcs8"))?;
    Ok(BASE64.encode(pair.public_key().as_ref()))
}

#[tokio::test]
async fn an_unverified_organization_is_refused_with_org_unverified() -> TestResult {
    let app = TestApp::spawn().await?;
    let operator = app.operator().await?;
    let (bidder, org) = app.member("kong@bidder.test", "bidder").await?;
    let path = format!("/api/v1/organizations/{org}/signing-keys");
    let key = json!({"public_key": public_key()?});

    let res = app.post(&path, &key, Some(&bidder)).await?;
    assert_problem(res, StatusCode::FORBIDDEN, "org_unverified").await?;

    app.post(
        &format!("/api/v1/organizations/{org}/verify"),
        &json!({}),
        Some(&operator),
    )
    .await?;
    let res = app.post(&path, &key, Some(&bidder)).await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    Ok(())
}

#[tokio::test]
async fn signing_keys_are_registered_once_and_revoked_not_deleted() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (bidder, org) = app.member("cao@bidder.test", "bidder").await?;
    let (other, _) = app.member("yan@bidder.test", "bidder").await?;
    let path = format!("/api/v1/organizations/{org}/signing-keys");
    let public_key = public_key()?;

    let res = app
        .post(&path, &json!({"public_key": public_key}), Some(&bidder))
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let key_id = res.json::<Value>().await?["key_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let raw = BASE64.decode(&public_key)?;
    assert_eq!(
        key_id,
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &raw))
    );

    let again = app
        .post(&path, &json!({"public_key": public_key}), Some(&bidder))
        .await?;
    assert_problem(again, StatusCode::CONFLICT, "key_exists").await?;
    let bad = app
        .post(&path, &json!({"public_key": "c2hvcnQ="}), Some(&bidder))
        .await?;
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    let foreign = app
        .post(
            &path,
            &json!({"public_key": self::public_key()?}),
            Some(&other),
        )
        .await?;
    assert_problem(foreign, StatusCode::FORBIDDEN, "forbidden").await?;

    let res = app
        .delete(&format!("{path}/{key_id}"), Some(&bidder))
        .await?;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let listed: Value = app.get(&path, Some(&bidder)).await?.json().await?;
    assert_eq!(listed["items"][0]["key_id"], key_id.as_str());
    assert!(listed["items"][0]["revoked_at"].is_string());
    Ok(())
}
