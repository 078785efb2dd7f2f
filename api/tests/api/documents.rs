//! Tender documents (docs/spec/api-contract.md "Documents"; 电子招标投标办法 Art 20–21): uploaded by the owner, streamed
//! to the store, downloaded by any signed-in account with their digest, every download recorded and
//! shown only as "Who sees what" allows.

use base64::Engine;
use chrono::TimeDelta;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{TestApp, TestResult, assert_problem, text};

async fn upload(
    app: &TestApp,
    token: &str,
    tender: &str,
    name: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    upload_as(app, token, tender, name, "application/pdf", bytes).await
}

async fn upload_as(
    app: &TestApp,
    token: &str,
    tender: &str,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    let form = Form::new().text("title", "招标文件").part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)?,
    );
    Ok(app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tenders/{tender}/documents"),
            Some(token),
        )
        .multipart(form)
        .send()
        .await?)
}

#[tokio::test]
async fn art_20_any_signed_in_account_downloads_what_the_owner_uploaded_with_its_digest()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@tenderer.test", "tenderer").await?;
    let (bidder, _) = app.member("reader@bidder.test", "bidder").await?;
    let id = app
        .published_goods_tender(&owner, "文件测试项目", 21)
        .await?;
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let res = upload(&app, &owner, &id, "招标文件 v1.pdf", content.clone()).await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let doc: Value = res.json().await?;
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &content));
    assert_eq!(doc["sha256"], sha.as_str());
    assert_eq!(doc["size"], content.len());
    assert_eq!(doc["filename"], "招标文件 v1.pdf");

    let listed: Value = app
        .get(&format!("/api/v1/tenders/{id}/documents"), None)
        .await?
        .json()
        .await?;
    assert_eq!(listed["items"][0]["document_id"], doc["document_id"]);
    assert!(listed["items"][0]["published_at"].is_string());

    let path = format!(
        "/api/v1/tenders/{id}/documents/{}",
        text(&doc["document_id"])
    );
    assert_problem(
        app.get(&path, None).await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    let res = app.get(&path, Some(&bidder)).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let digest = res
        .headers()
        .get("repr-digest")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let raw = hex::decode(&sha)?;
    assert_eq!(
        digest,
        format!(
            "sha-256=:{}:",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    );
    let disposition = res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        disposition.contains("filename*=UTF-8''%E6%8B%9B"),
        "{disposition}"
    );
    assert_eq!(res.bytes().await?.to_vec(), content);
    Ok(())
}

/// A document is served to every bidder from the platform's origin: it must never run there as a
/// page, nor pass itself off under a reversed name (电子招标投标办法 Art 20: documents are offered for
/// download, not rendered).
#[tokio::test]
async fn a_document_uploaded_as_html_is_served_as_bytes_with_nosniff_and_a_plain_name() -> TestResult
{
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@tenderer.test", "tenderer").await?;
    let (bidder, _) = app.member("reader@bidder.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "文件类型", 21).await?;
    let page = b"<script>alert(document.cookie)</script>".to_vec();
    let res = upload_as(
        &app,
        &owner,
        &id,
        "notice\u{202E}lmth.pdf",
        "text/html",
        page,
    )
    .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let doc: Value = res.json().await?;
    assert_eq!(doc["filename"], "noticelmth.pdf");
    let path = format!(
        "/api/v1/tenders/{id}/documents/{}",
        text(&doc["document_id"])
    );
    let res = app.get(&path, Some(&bidder)).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/octet-stream");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(!header("content-disposition").contains("%E2%80%AE"));
    Ok(())
}

#[tokio::test]
async fn only_the_owner_uploads_and_an_oversized_file_leaves_nothing() -> TestResult {
    let app = TestApp::spawn_with(|s| {
        s.sandbox = true;
        s.max_document_bytes = 1000;
    })
    .await?;
    let (owner, _) = app.member("owner@tenderer.test", "tenderer").await?;
    let (other, _) = app.member("other@tenderer.test", "tenderer").await?;
    let (bidder, _) = app.member("b@bidder.test", "bidder").await?;
    let id = app
        .published_goods_tender(&owner, "文件测试项目", 21)
        .await?;
    for token in [&other, &bidder] {
        assert_problem(
            upload(&app, token, &id, "x.pdf", vec![1; 10]).await?,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
    }
    assert_problem(
        upload(&app, &owner, &id, "big.pdf", vec![7; 5000]).await?,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await?;
    let listed: Value = app
        .get(&format!("/api/v1/tenders/{id}/documents"), None)
        .await?
        .json()
        .await?;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(0));
    let objects = app.settings.documents_dir().join("objects");
    let stored = std::fs::read_dir(&objects)?.count();
    assert_eq!(stored, 0, "a refused upload left an object behind");
    Ok(())
}

#[tokio::test]
async fn art_21_who_downloaded_stays_secret_until_the_deadline() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (owner, _) = app.member("owner@tenderer.test", "tenderer").await?;
    let (alpha, alpha_org) = app.member("alpha@bidder.test", "bidder").await?;
    let (beta, _) = app.member("beta@bidder.test", "bidder").await?;
    let id = app
        .published_goods_tender(&owner, "文件测试项目", 21)
        .await?;
    let doc: Value = upload(&app, &owner, &id, "spec.pdf", b"specification".to_vec())
        .await?
        .json()
        .await?;
    let path = format!(
        "/api/v1/tenders/{id}/documents/{}",
        text(&doc["document_id"])
    );
    for token in [&alpha, &beta] {
        assert_eq!(app.get(&path, Some(token)).await?.status(), StatusCode::OK);
    }
    let downloads = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            let page: Value = app
                .get(&format!("/api/v1/tenders/{id}/downloads"), Some(&token))
                .await?
                .json()
                .await?;
            anyhow::Ok(page["items"].as_array().cloned().unwrap_or_default())
        }
    };
    // Before the deadline: each bidder sees its own; the tenderer and supervisors see nothing.
    let own = downloads(alpha.clone()).await?;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0]["organization_id"], alpha_org.as_str());
    assert_eq!(downloads(owner.clone()).await?.len(), 0);
    assert_eq!(downloads(supervisor.clone()).await?.len(), 0);
    let log: Value = app
        .get(&format!("/api/v1/tenders/{id}/audit"), Some(&supervisor))
        .await?
        .json()
        .await?;
    let entries = log["items"].as_array().cloned().unwrap_or_default();
    assert!(entries.iter().all(|e| e["action"] != "document.download"));
    // The tender's own chain has no gaps that would count hidden entries.
    let seqs: Vec<i64> = entries.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let sealed: Value = app
        .get(
            &format!("/api/v1/tenders/{id}/audit?chain=sealed"),
            Some(&supervisor),
        )
        .await?
        .json()
        .await?;
    assert_eq!(sealed["items"].as_array().map(Vec::len), Some(0));

    // After it: the tenderer and supervisors see every download; a bidder still only its own.
    app.clock.advance(TimeDelta::days(21));
    let owner = app
        .sign_in("owner@tenderer.test", crate::helpers::PASSWORD)
        .await?;
    let supervisor = app
        .sign_in("supervisor@jianguan.test", crate::helpers::PASSWORD)
        .await?;
    let alpha = app
        .sign_in("alpha@bidder.test", crate::helpers::PASSWORD)
        .await?;
    assert_eq!(downloads(owner).await?.len(), 2);
    assert_eq!(downloads(supervisor.clone()).await?.len(), 2);
    assert_eq!(downloads(alpha).await?.len(), 1);
    let log: Value = app
        .get(
            &format!("/api/v1/tenders/{id}/audit?chain=sealed"),
            Some(&supervisor),
        )
        .await?
        .json()
        .await?;
    let seen = log["items"].as_array().map(|a| {
        a.iter()
            .filter(|e| e["action"] == "document.download")
            .count()
    });
    assert_eq!(seen, Some(2));
    Ok(())
}

#[tokio::test]
async fn a_corrupted_stored_document_is_not_served_as_if_whole() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@tenderer.test", "tenderer").await?;
    let id = app
        .published_goods_tender(&owner, "文件测试项目", 21)
        .await?;
    let content = b"bill of quantities, final".to_vec();
    let doc: Value = upload(&app, &owner, &id, "boq.xlsx", content.clone())
        .await?
        .json()
        .await?;
    let sha = text(&doc["sha256"]);
    let object = app
        .settings
        .documents_dir()
        .join("objects")
        .join(&sha[..2])
        .join(&sha[2..4])
        .join(&sha);
    let mut bytes = std::fs::read(&object)?;
    bytes[3] ^= 0x20;
    std::fs::write(&object, bytes)?;
    let path = format!(
        "/api/v1/tenders/{id}/documents/{}",
        text(&doc["document_id"])
    );
    // The connection breaks, before the headers or before the last byte: never a whole body.
    let served_whole = match app.get(&path, Some(&owner)).await {
        Ok(res) => res.bytes().await.is_ok(),
        Err(_) => false,
    };
    assert!(!served_whole, "a corrupted document was served whole");

    // The scrub finds it, names the document, and tells the operators.
    let operator = app.operator().await?;
    let report = tenderhall_domain::tender::service::scrub(
        app.state.db(),
        app.state.store().as_ref(),
        app.state.clock().now(),
    )
    .await?;
    assert_eq!(report.objects_checked, 1);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].problem, "corrupted");
    assert_eq!(report.findings[0].sha256, sha);
    assert_eq!(
        report.findings[0].documents,
        vec![(id.clone(), text(&doc["document_id"]))]
    );
    let notes: Value = app
        .get("/api/v1/notifications", Some(&operator))
        .await?
        .json()
        .await?;
    assert_eq!(notes["items"][0]["kind"], "documents.scrub");
    assert!(text(&notes["items"][0]["body"]).contains(&sha));
    Ok(())
}

#[tokio::test]
async fn documents_go_through_an_s3_store_and_readiness_follows_it() -> TestResult {
    let Some(mut s3) = tenderhall_workers::testing::S3Server::start().await? else {
        return Ok(());
    };
    let bucket = s3.settings("tender-documents");
    let app = TestApp::spawn_with(|s| {
        s.sandbox = true;
        s.s3_endpoint = Some(bucket.endpoint.clone());
        s.s3_bucket = Some(bucket.bucket.clone());
        s.s3_region = Some(bucket.region.clone());
        s.s3_access_key = Some(bucket.access_key.clone());
        s.s3_secret_key = Some(tenderhall_api::config::Secret::new(
            bucket.secret_key.clone(),
        ));
    })
    .await?;
    let ready: Value = app.get("/readyz", None).await?.json().await?;
    assert_eq!(ready["documents"], "s3");

    let (owner, _) = app.member("owner@s3.test", "tenderer").await?;
    let (bidder, _) = app.member("reader@s3.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "S3 文件", 21).await?;
    // Three multipart parts and a bit.
    let content: Vec<u8> = (0..25_000_000u32).map(|i| (i % 241) as u8).collect();
    let res = upload(&app, &owner, &id, "图纸.dwg", content.clone()).await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let doc: Value = res.json().await?;
    let path = format!(
        "/api/v1/tenders/{id}/documents/{}",
        text(&doc["document_id"])
    );
    let res = app.get(&path, Some(&bidder)).await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await?.to_vec(), content);

    s3.stop().await?;
    let res = app.get("/readyz", None).await?;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.json::<Value>().await?["code"], "unavailable");
    Ok(())
}
