//! The portal's pages over HTTP (docs/portal.md): forms refuse a missing or foreign token, the
//! session cookie signs in pages and, with the page's token, the API; the language follows
//! `Accept-Language` until the visitor picks one; the hall filters like the API; a refusal is a
//! page with the API's code. The browser tests in e2e/tests/portal.rs drive the same pages in
//! Chromium.

use reqwest::header::COOKIE;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, registration, text};
use crate::visitor::{Page, Visitor, field_value};

type TestResult = anyhow::Result<()>;

const FORMS: &[&str] = &[
    "/language",
    "/signup",
    "/signin",
    "/signout",
    "/forgot-password",
    "/reset-password",
    "/account/language",
    "/account/notifications/ntf_00000000000000000000000000000000/read",
    "/workbench/tenders/new",
    "/workbench/tenders/tnd_x/publish",
    "/workbench/tenders/tnd_x/questions/q_x/answer",
    "/workbench/tenders/tnd_x/amendments",
    "/workbench/tenders/tnd_x/cancel",
    "/workbench/bids/tnd_x/1/register",
    "/workbench/bids/tnd_x/1/fee",
    "/workbench/bids/tnd_x/1/question",
    "/workbench/bids/tnd_x/1/withdraw",
];

/// docs/portal.md "Sessions and forms": every form refuses a post without the page's token, or
/// with the token of another browser, with 403 `csrf_failed` as a page, and changes nothing.
#[tokio::test]
async fn every_form_refuses_a_missing_or_foreign_token() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (token, _) = app.member("victim@portal.test", "bidder").await?;
    let mut attacker = Visitor::new(&app)?;
    let foreign = attacker.csrf().await?;
    for path in FORMS {
        let mut victim = Visitor::signed_in(&app, &token)?;
        victim.get("/").await?;
        let fields = [
            ("language", "en"),
            ("email", "new@portal.test"),
            ("password", "another-horse-43"),
            ("name", "李四"),
            ("org_name", "某公司"),
            ("org_kind", "bidder"),
            ("credit_code", "91110000100000000R"),
        ];
        for token_field in [None, Some(foreign.as_str()), Some("")] {
            let mut all: Vec<(&str, &str)> = fields.to_vec();
            if let Some(t) = token_field {
                all.push(("csrf", t));
            }
            let page = victim.post_form(path, &all).await?;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "POST {path} with {token_field:?}: {}",
                page.body
            );
            assert!(
                page.body.contains("csrf_failed"),
                "POST {path}: the page names the code: {}",
                page.body
            );
            assert!(
                page.body.starts_with("<!doctype html>"),
                "POST {path}: a page, not JSON"
            );
        }
    }
    // The document upload carries its token in the address: without it, or with another's, refused.
    let mut victim = Visitor::signed_in(&app, &token)?;
    victim.get("/").await?;
    for query in ["", &format!("?csrf={foreign}")] {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF".to_vec()).file_name("a.pdf"),
        );
        let res = app
            .client
            .post(format!(
                "{}/workbench/tenders/tnd_x/documents{query}",
                app.base
            ))
            .header(COOKIE, victim.cookie_header())
            .multipart(form)
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "upload with `{query}`");
        assert!(res.text().await?.contains("csrf_failed"));
    }
    // Nothing changed: no account was made, the victim is still signed in and still Chinese.
    let res = app
        .post(
            "/api/v1/sessions",
            &json!({"email": "new@portal.test", "password": "another-horse-43"}),
            None,
        )
        .await?;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let me = app.get("/api/v1/sessions/current", Some(&token)).await?;
    assert_eq!(me.status(), StatusCode::OK);
    let mut victim = Visitor::signed_in(&app, &token)?;
    let page = victim.get("/account").await?;
    assert!(
        page.body.contains("<option value=\"zh-CN\" selected"),
        "{}",
        page.body
    );
    Ok(())
}

/// The session cookie signs in the pages; for the API it counts only with the page's token in
/// `X-CSRF-Token` (a call from another site cannot have it), and a bearer token works as before.
#[tokio::test]
async fn the_portal_cookie_signs_api_calls_only_with_the_page_token() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (token, _) = app.member("cookie@portal.test", "bidder").await?;
    let mut visitor = Visitor::signed_in(&app, &token)?;
    let csrf = visitor.csrf().await?;
    let cookies = visitor.cookie_header();
    let without = app
        .client
        .get(format!("{}/api/v1/sessions/current", app.base))
        .header(COOKIE, &cookies)
        .send()
        .await?;
    crate::helpers::assert_problem(without, StatusCode::FORBIDDEN, "csrf_failed").await?;
    let with = app
        .client
        .get(format!("{}/api/v1/sessions/current", app.base))
        .header(COOKIE, &cookies)
        .header("x-csrf-token", &csrf)
        .send()
        .await?;
    assert_eq!(with.status(), StatusCode::OK);
    let me: serde_json::Value = with.json().await?;
    assert_eq!(me["email"], "cookie@portal.test");
    // Public reads stay public with a cookie and no token.
    let list = app
        .client
        .get(format!("{}/api/v1/tenders", app.base))
        .header(COOKIE, &cookies)
        .send()
        .await?;
    assert_eq!(list.status(), StatusCode::OK);
    Ok(())
}

/// A visitor signs up through the form (the organization checked as the API checks it, the form
/// kept on a refusal), lands signed in on the account page, signs out (the session ends on the
/// server) and signs in again.
#[tokio::test]
async fn a_visitor_signs_up_signs_out_and_signs_in_through_the_forms() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let mut v = Visitor::new(&app)?;
    let mut fields = vec![
        ("email", "wang@supplier.test"),
        ("password", PASSWORD),
        ("name", "王五"),
        ("org_name", "杭州某某科技有限公司"),
        ("org_kind", "bidder"),
        ("credit_code", "91110000100000000X"),
        ("basic_account", "6222020012345678"),
    ];
    let refused = v.submit("/signup", &fields).await?;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("data-field=\"organization.credit_code\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"杭州某某科技有限公司\""),
        "the form keeps what was typed"
    );
    assert!(!refused.body.contains(PASSWORD), "but never the password");
    fields[5] = ("credit_code", "91110000100000000R");
    let done = v.submit("/signup", &fields).await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/account"));
    let session = v
        .cookie("th_session")
        .ok_or_else(|| anyhow::anyhow!("signed in"))?;
    let account = v.get("/account").await?;
    assert!(
        account.body.contains("杭州某某科技有限公司"),
        "{}",
        account.body
    );
    assert!(account.body.contains("王五"));

    let out = v.submit("/signout", &[]).await?;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(v.cookie("th_session"), None, "the cookie is gone");
    let res = app.get("/api/v1/sessions/current", Some(&session)).await?;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the session ended on the server"
    );
    let page = v.get("/account").await?;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/signin?next=/account"));

    let wrong = v
        .submit(
            "/signin",
            &[
                ("email", "wang@supplier.test"),
                ("password", "wrong-horse-00"),
                ("next", "/account"),
            ],
        )
        .await?;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("data-code=\"bad_credentials\""));
    let back = v
        .submit(
            "/signin",
            &[
                ("email", "wang@supplier.test"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await?;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(
        back.location.as_deref(),
        Some("/"),
        "a sign-in never sends the visitor off the site"
    );
    assert!(v.cookie("th_session").is_some());
    Ok(())
}

/// docs/portal.md "Languages": Chinese by default, English when the browser prefers it, and the
/// visitor's choice over both; a signed-in person's choice is also the language of its mail.
#[tokio::test]
async fn the_portal_speaks_chinese_unless_asked_and_keeps_the_visitors_choice() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let mut v = Visitor::new(&app)?;
    let page = v.get("/").await?;
    assert!(page.body.contains("<html lang=\"zh-CN\">"));
    assert!(page.body.contains("交易大厅"));
    v.language = Some("en-GB,en;q=0.9,zh;q=0.5");
    let page = v.get("/").await?;
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page.body.contains("Trading hall"));
    let switched = v
        .submit("/language", &[("language", "zh-CN"), ("back", "/keys")])
        .await?;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(switched.location.as_deref(), Some("/keys"));
    let page = v.get("/keys").await?;
    assert!(
        page.body.contains("<html lang=\"zh-CN\">"),
        "the choice beats Accept-Language"
    );

    let (token, _) = app.member("lang@portal.test", "bidder").await?;
    let mut signed = Visitor::signed_in(&app, &token)?;
    signed
        .submit("/language", &[("language", "en"), ("back", "/")])
        .await?;
    let account = signed.get("/account").await?;
    assert!(
        account.body.contains("<option value=\"en\" selected"),
        "{}",
        account.body
    );
    Ok(())
}

/// The hall lists what `GET /api/v1/tenders` lists, with the same filters: kind, procedure,
/// region (a province holds its cities), status and words; a filter the API refuses is refused
/// as a page with the API's code.
#[tokio::test]
async fn the_hall_filters_like_the_api_and_refuses_what_it_refuses() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("hall@tenderer.test", "tenderer").await?;
    let deadline = (app.state.now() + chrono::TimeDelta::days(25)).to_rfc3339();
    let tender = |title: &str, kind: &str, region: &str| {
        json!({
            "title": title, "kind": kind, "procedure": "open_tender", "award_method": "lowest_evaluated_price",
            "lots": [{"id": "1", "title": "包一", "budget": "100000", "deposit": "2000"}],
            "bid_deadline": deadline, "region": region,
        })
    };
    app.publish_tender(
        &owner,
        &tender("西湖区道路改造工程", "construction", "330106"),
    )
    .await?;
    app.publish_tender(&owner, &tender("杭州市医院设备采购", "goods", "330100"))
        .await?;
    app.publish_tender(&owner, &tender("南京市学校家具采购", "goods", "320100"))
        .await?;
    let mut v = Visitor::new(&app)?;
    let shows = |page: &Page, titles: &[&str]| {
        for t in [
            "西湖区道路改造工程",
            "杭州市医院设备采购",
            "南京市学校家具采购",
        ] {
            assert_eq!(
                page.body.contains(t),
                titles.contains(&t),
                "{t} in {titles:?}"
            );
        }
    };
    shows(
        &v.get("/").await?,
        &[
            "西湖区道路改造工程",
            "杭州市医院设备采购",
            "南京市学校家具采购",
        ],
    );
    shows(
        &v.get("/?region=330000").await?,
        &["西湖区道路改造工程", "杭州市医院设备采购"],
    );
    shows(
        &v.get("/?region=330000&kind=goods").await?,
        &["杭州市医院设备采购"],
    );
    shows(
        &v.get("/?q=%E9%87%87%E8%B4%AD&status=active").await?,
        &["杭州市医院设备采购", "南京市学校家具采购"],
    );
    shows(
        &v.get("/?kind=&procedure=&region=&status=&q=").await?,
        &[
            "西湖区道路改造工程",
            "杭州市医院设备采购",
            "南京市学校家具采购",
        ],
    );
    let api: serde_json::Value = app
        .get("/api/v1/tenders?region=320000", None)
        .await?
        .json()
        .await?;
    assert_eq!(api["items"].as_array().map(Vec::len), Some(1), "{api}");
    assert_eq!(api["items"][0]["region"], "320100");

    let refused = v.get("/?kind=spaceships").await?;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"error-code\">invalid<"),
        "{}",
        refused.body
    );
    let missing = v.get("/tenders/tnd_doesnotexist").await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("not_found"));
    let res = app
        .post(
            "/api/v1/tenders",
            &{
                let mut t = tender("地区无效", "goods", "999999");
                t["region"] = json!("999999");
                t
            },
            Some(&owner),
        )
        .await?;
    crate::helpers::assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await?;
    Ok(())
}

/// Every page carries the strict policy: no inline script, nothing from another origin, no framing.
#[tokio::test]
async fn pages_carry_a_strict_content_security_policy() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    for path in [
        "/",
        "/keys",
        "/signin",
        "/signup",
        "/forgot-password",
        "/reset-password?token=x",
    ] {
        let res = app.request(Method::GET, path, None).send().await?;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let csp = res
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        let body = res.text().await?;
        assert!(!body.contains("<script>"), "{path}: no inline script");
        assert!(!body.contains("style=\""), "{path}: no inline style");
    }
    Ok(())
}

/// A reset link from the mail opens the form; the new password works and the old one does not.
#[tokio::test]
async fn a_reset_link_opens_a_form_that_sets_the_password() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let body = registration("reset@portal.test", "bidder");
    app.post("/api/v1/accounts", &body, None).await?;
    let mut v = Visitor::new(&app)?;
    let page = v
        .submit("/forgot-password", &[("email", "reset@portal.test")])
        .await?;
    assert!(page.body.contains("id=\"reset-sent\""));
    app.drain().await?;
    let mail = app
        .outbox()?
        .into_iter()
        .find(|m| m.contains("reset@portal.test"))
        .ok_or_else(|| anyhow::anyhow!("no reset mail"))?;
    let unfolded = mail.replace("=\r\n", "").replace("=3D", "=");
    let start = unfolded
        .find("?token=")
        .ok_or_else(|| anyhow::anyhow!("link: {unfolded}"))?
        + "?token=".len();
    let token: String = unfolded[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let form = v.get(&format!("/reset-password?token={token}")).await?;
    assert_eq!(
        field_value(&form.body, "token").as_deref(),
        Some(token.as_str())
    );
    let done = v
        .submit(
            "/reset-password",
            &[("token", &token), ("password", "brand-new-horse-7")],
        )
        .await?;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(
        app.sign_in("reset@portal.test", "brand-new-horse-7")
            .await
            .is_ok()
    );
    let again = v
        .submit(
            "/reset-password",
            &[("token", &token), ("password", "third-horse-88")],
        )
        .await?;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a link works once"
    );
    assert!(text(&json!(again.body)).contains("reset_token_invalid"));
    Ok(())
}
