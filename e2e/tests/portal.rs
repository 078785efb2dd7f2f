//! The portal in a real headless Chromium against the real binary (docs/portal.md): a visitor
//! finds a tender in the hall and reads it in Chinese and in English; a person signs up, is
//! refused a wrong credit code, signs in and out. Labels, keyboard use and contrast are checked
//! on the pages' forms; screenshots go to the run's artifacts.

use serde_json::json;
use tenderhall_e2e::Site;
use tenderhall_e2e::api::{Api, text};
use tenderhall_e2e::browser::{Browser, available};

/// The visible text without `known` (what people typed: titles, names), holding no Chinese.
fn chinese_left(text: &str, known: &[&str]) -> Vec<String> {
    let mut text = text.to_owned();
    for k in known {
        text = text.replace(k, "");
    }
    text.lines()
        .filter(|l| {
            l.chars().any(|c| {
                ('\u{4e00}'..='\u{9fff}').contains(&c)
                    || ('\u{3000}'..='\u{303f}').contains(&c)
                    || ('\u{ff00}'..='\u{ffef}').contains(&c)
            })
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_visitor_finds_a_tender_in_the_hall_and_reads_it_in_chinese_and_english()
-> anyhow::Result<()> {
    if !available("portal hall")? {
        return Ok(());
    }
    let site = Site::new().await?;
    let server = site.serve(&["--sandbox"]).await?;
    let api = Api {
        server: &server,
        client: reqwest::Client::new(),
    };
    let (token, _) = api.member("hall@tenderer.test", "tenderer").await?;
    let deadline = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let mut ids = Vec::new();
    for (title, region) in [
        ("杭州市第一人民医院医疗设备采购", "330100"),
        ("南京市学校课桌椅采购", "320100"),
    ] {
        let (status, t) = api
            .post(
                "/api/v1/tenders",
                Some(&token),
                &json!({
                    "title": title, "kind": "goods", "procedure": "open_tender", "award_method": "lowest_evaluated_price",
                    "lots": [{"id": "1", "title": "第一包", "budget": "800000", "deposit": "16000"}],
                    "bid_deadline": deadline, "region": region,
                }),
            )
            .await?;
        anyhow::ensure!(status.is_success(), "{t}");
        let id = text(&t["id"]);
        let (status, body) = api
            .post(
                &format!("/api/v1/tenders/{id}/publish"),
                Some(&token),
                &json!({}),
            )
            .await?;
        anyhow::ensure!(status.is_success(), "{body}");
        ids.push(id);
    }
    let known = [
        "杭州市第一人民医院医疗设备采购",
        "南京市学校课桌椅采购",
        "第一包",
        "hall@tenderer.test 单位",
        // The switch back names its language in that language, as language switches do.
        "中文",
    ];

    let browser = Browser::start("zh-CN").await?;
    browser.goto(&server.url("/")).await?;
    assert_eq!(browser.text("h1").await?, "交易大厅");
    let list = browser.text("#tenders").await?;
    assert!(
        list.contains("杭州市第一人民医院医疗设备采购") && list.contains("南京市学校课桌椅采购")
    );
    browser.accessible("hall").await?;
    browser.screenshot("hall-zh").await?;

    // Search by words, then by province: the form works without a script (a GET).
    browser.fill("#q", "医院").await?;
    browser.click_and_load("#search").await?;
    let list = browser.text("#tenders").await?;
    assert!(list.contains("杭州市第一人民医院医疗设备采购"), "{list}");
    assert!(!list.contains("南京市学校课桌椅采购"), "{list}");
    browser.fill("#q", "").await?;
    browser.select("#region", "320000").await?;
    browser.click_and_load("#search").await?;
    let list = browser.text("#tenders").await?;
    assert!(
        list.contains("南京市学校课桌椅采购") && !list.contains("杭州"),
        "{list}"
    );

    // The tender's page, with its countdown running on the server's clock.
    browser
        .goto(&server.url(&format!("/tenders/{}", ids[0])))
        .await?;
    assert_eq!(
        browser.text("#tender-title").await?,
        "杭州市第一人民医院医疗设备采购"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let countdown = browser.text("#countdown").await?;
    assert!(
        countdown.starts_with("29天") || countdown.starts_with("30天"),
        "{countdown}"
    );
    // The first Tab reaches the skip link.
    browser
        .eval("document.activeElement.blur(); return null;")
        .await?;
    browser
        .client
        .find(fantoccini::Locator::Css("body"))
        .await?
        .send_keys("\u{e004}")
        .await?;
    let focused = browser
        .eval("return document.activeElement.className;")
        .await?;
    assert_eq!(focused, "skip", "keyboard: the first stop is the skip link");
    browser.screenshot("tender-zh").await?;

    // The English switch: every string of the page changes but what people typed.
    browser.click("#switch-language").await?;
    browser.wait_for("html[lang=en]").await?;
    assert_eq!(
        browser.path().await?,
        format!("/tenders/{}", ids[0]),
        "the switch stays on the page"
    );
    let english = browser.body_text().await?;
    assert!(english.contains("Bid deadline"), "{english}");
    let left = chinese_left(&english, &known);
    assert!(
        left.is_empty(),
        "Chinese left on the English tender page: {left:?}"
    );
    browser.screenshot("tender-en").await?;
    for path in ["/", "/keys", "/signin", "/signup", "/forgot-password"] {
        browser.goto(&server.url(path)).await?;
        browser.wait_for("html[lang=en]").await?;
        let left = chinese_left(&browser.body_text().await?, &known);
        assert!(
            left.is_empty(),
            "Chinese left on the English {path}: {left:?}"
        );
        browser.accessible(path).await?;
    }
    browser.goto(&server.url("/")).await?;
    browser.screenshot("hall-en").await?;
    // A phone: the hall still reads in one column, without sideways scrolling.
    browser.client.set_window_size(390, 844).await?;
    browser.goto(&server.url("/")).await?;
    let wide = browser
        .eval("return document.documentElement.scrollWidth > window.innerWidth + 1;")
        .await?;
    assert_eq!(wide, json!(false), "the hall fits a phone's width");
    browser.screenshot("hall-phone").await?;
    browser.close().await?;
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_person_signs_up_in_the_browser_is_refused_a_wrong_code_and_signs_out_and_in()
-> anyhow::Result<()> {
    if !available("portal sign-up")? {
        return Ok(());
    }
    let site = Site::new().await?;
    let server = site.serve(&["--sandbox"]).await?;
    let browser = Browser::start("zh-CN").await?;
    browser.goto(&server.url("/signup")).await?;
    browser.accessible("signup").await?;
    browser.fill("#name", "周七").await?;
    browser.fill("#email", "zhou@tenderer.test").await?;
    browser.fill("#password", "correct-horse-42").await?;
    browser.fill("#org_name", "某县人民医院").await?;
    browser.select("#org_kind", "tenderer").await?;
    browser.fill("#credit_code", "12100000400000000X").await?;
    browser.click("#signup-submit").await?;
    let error = browser.text("#form-error").await?;
    assert!(error.contains("统一社会信用代码"), "{error}");
    browser.screenshot("signup-refused").await?;
    // The form kept what was typed but the password.
    browser.fill("#credit_code", "12100000400000000W").await?;
    browser.fill("#password", "correct-horse-42").await?;
    browser.click("#signup-submit").await?;
    browser.wait_for("#account-org").await?;
    assert_eq!(browser.path().await?, "/account");
    assert!(browser.text("#account-org").await?.contains("某县人民医院"));
    browser.screenshot("account").await?;

    browser.click("#nav-signout").await?;
    browser.wait_for("#nav-signin").await?;
    browser.goto(&server.url("/account")).await?;
    browser.wait_for("#signin-form").await?;
    browser.fill("#email", "zhou@tenderer.test").await?;
    browser.fill("#password", "correct-horse-42").await?;
    browser.click("#signin-submit").await?;
    browser.wait_for("#account-org").await?;
    assert_eq!(
        browser.path().await?,
        "/account",
        "back where the visitor was going"
    );
    browser.close().await?;
    server.stop().await?;
    Ok(())
}
