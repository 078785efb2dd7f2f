//! The evaluation report (docs/spec/evaluation.md "The report"; 电子招标投标办法 Art 40: the report
//! is signed electronically): each member signs the report's digest with its own key, one with a
//! recorded dissent (评标委员会和评标方法暂行规定 Art 43); the platform signs after the last; then,
//! and only then, the tender's owners read it, as JSON and as a printable page; bidders never.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::evaluation::Member;
use crate::helpers::{TestApp, assert_problem, text};

fn signature(m: &Member, digest: &str, dissent: Option<&str>) -> String {
    let message = tenderhall_domain::canonical::to_canonical_string(&json!({
        "dissent": dissent, "expert_id": m.id, "report_sha256": digest,
    }));
    base64::engine::general_purpose::STANDARD.encode(m.key.sign(message.as_bytes()))
}

/// Signs the scored room at `path` (`.../evaluation`) by every member, checking the report's rules
/// on the way; `owner` and `bidder` are tokens of the tenderer and of a bidder.
pub(super) async fn sign_and_check(
    app: &TestApp,
    path: &str,
    members: &[Member],
    owner: &str,
    bidder: &str,
) -> anyhow::Result<()> {
    let report_path = format!("{path}/report");
    let sign_path = format!("{report_path}/signatures");
    // Before the report is signed, the owner and the bidders see nothing of it.
    for token in [owner, bidder] {
        assert_problem(
            app.get(&report_path, Some(token)).await?,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await?;
    }
    let draft: Value = app
        .get(&report_path, Some(&members[0].token))
        .await?
        .json()
        .await?;
    assert_eq!(draft["status"], "signing", "{draft}");
    let digest = text(&draft["report_sha256"]);
    assert_eq!(
        digest,
        tenderhall_domain::evaluation::k::commitment(
            tenderhall_domain::canonical::to_canonical_string(&draft["report"]).as_bytes()
        ),
        "the digest is the report's canonical JSON's"
    );
    assert_eq!(
        draft["report"]["ranking"]["candidates"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // A signature over something else, or a digest of another report, is refused.
    let res = app
        .post(&sign_path, &json!({"report_sha256": digest, "signature": signature(&members[0], &digest, Some("x"))}), Some(&members[0].token))
        .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "bad_signature").await?;
    let other = "0".repeat(64);
    let res = app
        .post(
            &sign_path,
            &json!({"report_sha256": other, "signature": signature(&members[0], &other, None)}),
            Some(&members[0].token),
        )
        .await?;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;

    let dissent = "对投标人B的技术方案评分偏高，保留意见。";
    for (i, m) in members.iter().enumerate() {
        let d = (i == members.len() - 1).then_some(dissent);
        let res = app
            .post(&sign_path, &json!({"report_sha256": digest, "dissent": d, "signature": signature(m, &digest, d)}), Some(&m.token))
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await?);
        let answer: Value = res.json().await?;
        let expected = if i == members.len() - 1 {
            "signed"
        } else {
            "signing"
        };
        assert_eq!(answer["status"], expected);
        if i == 0 {
            let res = app
                .post(
                    &sign_path,
                    &json!({"report_sha256": digest, "signature": signature(m, &digest, None)}),
                    Some(&m.token),
                )
                .await?;
            assert_problem(res, StatusCode::CONFLICT, "sheet_locked").await?;
            assert_problem(
                app.get(&report_path, Some(owner)).await?,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await?;
        }
    }

    // Signed: the owner reads the record; every signature checks.
    let signed: Value = app.get(&report_path, Some(owner)).await?.json().await?;
    assert_eq!(signed["status"], "signed", "{signed}");
    let record = &signed["record"];
    assert_eq!(record["report_sha256"], digest);
    let keys: Value = app.get("/api/v1/platform/keys", None).await?.json().await?;
    let platform = base64::engine::general_purpose::STANDARD
        .decode(text(&keys["receipt_key"]["public_key"]))?;
    let mut unsigned = record.clone();
    unsigned.as_object_mut().map(|o| o.remove("signature"));
    assert!(
        tenderhall_domain::keys::verify_ed25519(
            &platform,
            tenderhall_domain::canonical::to_canonical_string(&unsigned).as_bytes(),
            &text(&record["signature"])
        ),
        "the platform's signature"
    );
    let signatures = record["signatures"].as_array().cloned().unwrap_or_default();
    assert_eq!(signatures.len(), members.len());
    for s in &signatures {
        let public = base64::engine::general_purpose::STANDARD.decode(text(&s["public_key"]))?;
        let message = tenderhall_domain::canonical::to_canonical_string(&json!({
            "dissent": s["dissent"], "expert_id": s["expert_id"], "report_sha256": digest,
        }));
        assert!(tenderhall_domain::keys::verify_ed25519(
            &public,
            message.as_bytes(),
            &text(&s["signature"])
        ));
    }
    assert!(
        signatures.iter().any(|s| s["dissent"] == dissent),
        "the dissent is kept"
    );
    // Bidders still see nothing of it: candidates are published on their own.
    assert_problem(
        app.get(&report_path, Some(bidder)).await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;

    // The printable page, Chinese by default, English on request.
    let res = app.get(&format!("{report_path}.html"), Some(owner)).await?;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()?
            .starts_with("text/html")
    );
    let html = res.text().await?;
    assert!(
        html.contains("评标报告") && html.contains(&digest) && html.contains(dissent),
        "{html}"
    );
    let html = app
        .get(&format!("{report_path}.html?lang=en"), Some(owner))
        .await?
        .text()
        .await?;
    assert!(
        html.contains("Evaluation report") && html.contains("Recommended candidates"),
        "{html}"
    );
    assert_problem(
        app.get(&format!("{report_path}.html"), Some(bidder))
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;

    // The owner is told in the platform.
    let notes: Value = app
        .get("/api/v1/notifications", Some(owner))
        .await?
        .json()
        .await?;
    assert!(notes.to_string().contains("evaluation.report"), "{notes}");
    Ok(())
}

/// `tenderhall sign-json` (docs/guide-expert.md): an expert without the portal signs a sheet or its
/// report signature on its own machine; the signature is over the canonical JSON, whatever the
/// file's key order and spacing, and verifies under the key `tenderhall keygen` made.
#[test]
fn the_sign_json_command_signs_the_canonical_form_of_the_file() -> crate::helpers::TestResult {
    let dir = tempfile::tempdir()?;
    let key = dir.path().join("expert.pk8");
    let (public, _) = tenderhall_api::bidder::keygen(&key)?;
    let file = dir.path().join("report-signature.json");
    std::fs::write(
        &file,
        "{ \"report_sha256\": \"ab\",\n  \"expert_id\": \"E001\", \"dissent\": null }",
    )?;
    let signature = tenderhall_api::bidder::sign_json(&key, &file)?;
    let message = tenderhall_domain::canonical::to_canonical_string(
        &json!({"dissent": null, "expert_id": "E001", "report_sha256": "ab"}),
    );
    let public = base64::engine::general_purpose::STANDARD.decode(public)?;
    assert!(tenderhall_domain::keys::verify_ed25519(
        &public,
        message.as_bytes(),
        &signature
    ));
    std::fs::write(&file, "not json")?;
    let error = tenderhall_api::bidder::sign_json(&key, &file)
        .err()
        .map(|e| e.to_string());
    assert!(error.is_some_and(|e| e.contains("is not JSON")));
    Ok(())
}
