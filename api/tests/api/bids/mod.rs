//! Sealed bids (docs/spec/envelope.md, docs/spec/api-contract.md "Registration, bids and the opening"), and the helpers their
//! tests share: a registered bidder with a signing key, a sealed price, an upload, the workers drained.

use base64::Engine as _;
use chrono::TimeDelta;
use serde_json::Value;
use tenderhall_domain::bid::hpke;
use tenderhall_domain::keys::key_id;

use crate::helpers::{TestApp, TestResult, text};

mod candidates;
mod candidates_works;
mod confidentiality;
mod deposits;
mod evaluation;
mod evaluation_clarify;
mod evaluation_fail;
mod evaluation_report;
mod evaluation_secrecy;
mod keys;
mod opening;
mod pages;
mod price_k;
mod rounds;
mod submission;
mod tools;
mod visibility;
mod workbench;

/// A bidder ready to bid: registered for lot 1, with a registered signing key.
struct Bidder {
    token: String,
    org: String,
    key: ring::signature::Ed25519KeyPair,
}

async fn bidder(app: &TestApp, email: &str, tender: &str) -> anyhow::Result<Bidder> {
    use ring::signature::KeyPair as _;
    let (token, org) = app.member(email, "bidder").await?;
    let res = app
        .post(
            &format!("/api/v1/tenders/{tender}/lots/1/registrations"),
            &serde_json::json!({}),
            Some(&token),
        )
        .await?;
    anyhow::ensure!(res.status() == reqwest::StatusCode::CREATED, "registration");
    let rng = ring::rand::SystemRandom::new();
    let key = ring::signature::Ed25519KeyPair::from_pkcs8(
        ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| anyhow::anyhow!("keygen"))?
            .as_ref(),
    )
    .map_err(|_| anyhow::anyhow!("key"))?;
    let res = app
        .post(
            &format!("/api/v1/organizations/{org}/signing-keys"),
            &serde_json::json!({"public_key": base64::engine::general_purpose::STANDARD.encode(key.public_key().as_ref())}),
            Some(&token),
        )
        .await?;
    anyhow::ensure!(
        res.status() == reqwest::StatusCode::CREATED,
        "signing key: {}",
        res.text().await?
    );
    Ok(Bidder { token, org, key })
}

/// The lot's opening public key, raw.
async fn opening_key(app: &TestApp, tender: &str) -> anyhow::Result<Vec<u8>> {
    let view: Value = app
        .get(&format!("/api/v1/tenders/{tender}"), None)
        .await?
        .json()
        .await?;
    Ok(base64::engine::general_purpose::STANDARD
        .decode(text(&view["lots"][0]["opening_key"]["public_key"]))?)
}

fn sealed_bid(bidder: &Bidder, tender: &str, to: &[u8], price: &str) -> anyhow::Result<Vec<u8>> {
    seal_archive(bidder, tender, to, &bid_archive(price, &[])?)
}

/// `archive` sealed by `bidder` for lot 1 of `tender`, to the opening key `to`.
fn seal_archive(
    bidder: &Bidder,
    tender: &str,
    to: &[u8],
    archive: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    tenderhall_domain::bid::envelope::seal(
        &tenderhall_domain::bid::envelope::SealParams {
            tender,
            lot: "1",
            bidder: &bidder.org,
            opening_key: to,
            signing_key: &bidder.key,
            created_at: "2026-11-28T08:00:00Z".into(),
        },
        archive,
        &mut out,
    )?;
    Ok(out)
}

/// A ustar archive holding `price.json` for lot 1, then `files` (name, content).
fn bid_archive(total_price: &str, files: &[(&str, &[u8])]) -> anyhow::Result<Vec<u8>> {
    let price =
        serde_json::json!({"lot": "1", "currency": "CNY", "total_price": total_price}).to_string();
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in
        std::iter::once(("price.json", price.as_bytes())).chain(files.iter().copied())
    {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, data)?;
    }
    Ok(builder.into_inner()?)
}

/// The opening record of lot 1, as anyone reads it.
async fn opening_record(app: &TestApp, tender: &str) -> anyhow::Result<Value> {
    Ok(app
        .get(&format!("/api/v1/tenders/{tender}/lots/1/opening"), None)
        .await?
        .json()
        .await?)
}

async fn put_bid(
    app: &TestApp,
    bidder: &Bidder,
    tender: &str,
    envelope: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    Ok(app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/tenders/{tender}/lots/1/bid"),
            Some(&bidder.token),
        )
        .header("content-type", "application/vnd.tenderhall.bid")
        .body(envelope)
        .send()
        .await?)
}

/// Objects in the local document store (the staging area excluded).
fn stored_objects(app: &TestApp) -> usize {
    std::fs::read_dir(app.settings.documents_dir().join("objects"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|shard| {
                    std::fs::read_dir(shard.path())
                        .map(|d| d.count())
                        .unwrap_or(1)
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The receipt's signature verifies under the published platform key over the canonical JSON of
/// the other fields.
async fn assert_receipt_signed(app: &TestApp, receipt: &Value) -> anyhow::Result<()> {
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    assert_eq!(receipt["platform_key"], keys["receipt_key"]["key_id"]);
    let public = base64::engine::general_purpose::STANDARD
        .decode(text(&keys["receipt_key"]["public_key"]))?;
    let mut unsigned = receipt.clone();
    let signature = text(&unsigned["signature"]);
    unsigned.as_object_mut().map(|o| o.remove("signature"));
    let message = tenderhall_domain::canonical::to_canonical_string(&unsigned);
    assert!(
        tenderhall_domain::keys::verify_ed25519(&public, message.as_bytes(), &signature),
        "receipt signature"
    );
    Ok(())
}

async fn drain(app: &TestApp) -> anyhow::Result<()> {
    let runner =
        tenderhall_workers::runner::Runner::new(tenderhall_api::cli::worker_context(&app.state)?);
    while runner.run_one().await? {}
    Ok(())
}

/// The actions of a tender's audit chain (`tender`, or `sealed`) as a supervisor reads them.
async fn chain_actions(
    app: &TestApp,
    supervisor: &str,
    tender: &str,
    chain: &str,
) -> anyhow::Result<Vec<String>> {
    let audit: Value = app
        .get(
            &format!("/api/v1/tenders/{tender}/audit?chain={chain}"),
            Some(supervisor),
        )
        .await?
        .json()
        .await?;
    Ok(audit["items"]
        .as_array()
        .map(|items| items.iter().map(|e| text(&e["action"])).collect())
        .unwrap_or_default())
}

async fn audit_actions(app: &TestApp, tender: &str) -> anyhow::Result<Vec<String>> {
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let audit: Value = app
        .get(
            &format!("/api/v1/tenders/{tender}/audit"),
            Some(&supervisor),
        )
        .await?
        .json()
        .await?;
    Ok(audit["items"]
        .as_array()
        .map(|items| items.iter().map(|e| text(&e["action"])).collect())
        .unwrap_or_default())
}

async fn assert_record_signed(app: &TestApp, record: &Value) -> anyhow::Result<()> {
    assert_receipt_signed(app, record).await
}

/// A read answer for one tender: `path` with `{id}` replaced, as `token` sees it.
async fn seen(
    app: &TestApp,
    path: &str,
    tender: &str,
    token: Option<&str>,
) -> anyhow::Result<(reqwest::StatusCode, String)> {
    let res = app.get(&path.replace("{id}", tender), token).await?;
    let status = res.status();
    Ok((status, res.text().await?))
}

/// Drops what differs between two tenders published alike whatever happens to them (ids, keys,
/// hashes, request ids, their own documents' ids), and writes `id` as `as_id`, so that what
/// remains can be compared. Timestamps are kept: a time that differs tells of something done.
fn normalized(mut value: Value, id: &str, as_id: &str) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for key in [
                    "request_id",
                    "opening_key",
                    "hash",
                    "prev_hash",
                    "id",
                    "object",
                    "document_id",
                    "document_ids",
                ] {
                    map.remove(key);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    serde_json::from_str(&value.to_string().replace(id, as_id)).unwrap_or(Value::Null)
}
