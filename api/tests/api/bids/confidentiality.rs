//! Before the deadline nobody can learn that a bid exists (电子招标投标办法 Art 21, 27).

use super::*;

/// 电子招标投标办法 Art 21, docs/spec/visibility.md: before the deadline, a tender with three
/// registered bidders who bid looks, to the tenderer, supervisors, operators, another bidder and
/// the public, exactly like the same tender with none, on every endpoint they can call; and no
/// platform-wide view (metrics, notifications, the platform audit log) names a bidder or counts bids.
#[tokio::test]
async fn before_the_deadline_nobody_can_tell_a_tender_with_bids_from_one_without() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let operator = app.operator().await?;
    let supervisor = app.supervisor(&operator).await?;
    let (owner, _) = app.member("owner@secret.test", "tenderer").await?;
    let (other, _) = app.member("other@secret.test", "bidder").await?;
    let with_bids = app.published_goods_tender(&owner, "保密", 21).await?;
    let without = app.published_goods_tender(&owner, "保密", 21).await?;
    let key = opening_key(&app, &with_bids).await?;
    let mut secrets = Vec::new();
    for email in ["x@secret.test", "y@secret.test", "z@secret.test"] {
        let b = bidder(&app, email, &with_bids).await?;
        let res = put_bid(
            &app,
            &b,
            &with_bids,
            sealed_bid(&b, &with_bids, &key, "5000.00")?,
        )
        .await?;
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        let receipt: Value = res.json().await?;
        secrets.push(b.org.clone());
        secrets.push(text(&receipt["envelope_sha256"]));
    }

    let viewers: [(&str, Option<&str>); 5] = [
        ("public", None),
        ("tenderer", Some(&owner)),
        ("supervisor", Some(&supervisor)),
        ("operator", Some(&operator)),
        ("another bidder", Some(&other)),
    ];
    let paths = [
        "/api/v1/tenders/{id}",
        "/api/v1/tenders/{id}/amendments",
        "/api/v1/tenders/{id}/questions",
        "/api/v1/tenders/{id}/documents",
        "/api/v1/tenders/{id}/downloads",
        "/api/v1/tenders/{id}/audit",
        "/api/v1/tenders/{id}/audit?chain=sealed",
        "/api/v1/tenders/{id}/flags",
        "/api/v1/tenders/{id}/lots/1/deposits",
        "/api/v1/tenders/{id}/lots/1/bid",
        "/api/v1/tenders/{id}/lots/1/opening",
    ];
    for (who, token) in viewers {
        for path in paths {
            let (status_a, body_a) = seen(&app, path, &with_bids, token).await?;
            let (status_b, body_b) = seen(&app, path, &without, token).await?;
            assert_eq!(status_a, status_b, "{who} {path}: {body_a} / {body_b}");
            for secret in &secrets {
                assert!(
                    !body_a.contains(secret.as_str()),
                    "{who} {path} shows {secret}: {body_a}"
                );
            }
            let a = serde_json::from_str(&body_a).unwrap_or(Value::String(body_a.clone()));
            let b = serde_json::from_str(&body_b).unwrap_or(Value::String(body_b.clone()));
            assert_eq!(
                normalized(a, &with_bids, &without),
                normalized(b, &without, &without),
                "{who} {path}"
            );
        }
        for path in ["/api/v1/notifications", "/metrics", "/api/v1/tenders"] {
            let body = app.get(path, token).await?.text().await?;
            for secret in &secrets {
                assert!(
                    !body.contains(secret.as_str()),
                    "{who} {path} shows {secret}"
                );
            }
            assert!(
                !body.contains("/bid\""),
                "{who} {path} counts bid requests: {body}"
            );
        }
        // The platform's own log records that organizations and their signing keys exist, which is
        // not secret; nothing in it ties one to this tender or tells of a bid.
        let body = app
            .get("/api/v1/audit/platform", token)
            .await?
            .text()
            .await?;
        for secret in secrets.iter().filter(|s| !s.starts_with("org_")) {
            assert!(
                !body.contains(secret.as_str()),
                "{who} platform log shows {secret}"
            );
        }
        assert!(
            !body.contains("bid.") && !body.contains(&with_bids),
            "{who} platform log: {body}"
        );
    }
    Ok(())
}
