//! Questions, clarifications and amendments (电子招标投标办法 Art 22; 实施条例 Art 21–22): bidders
//! ask without being named, answers and amendments reach everyone and are mailed to every
//! downloader, an amendment inside the last 15 days moves the deadline, and questions close 10 days
//! before it.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tenderhall_api::cli::worker_context;
use tenderhall_domain::id::TenderId;
use tenderhall_workers::runner::Runner;

use crate::helpers::{PASSWORD, TestApp, TestResult, assert_problem, text};

async fn upload_and_download(
    app: &TestApp,
    owner: &str,
    tender: &str,
    readers: &[&str],
) -> anyhow::Result<()> {
    let form = Form::new().part(
        "file",
        Part::bytes(b"tender documents v1".to_vec()).file_name("招标文件.pdf"),
    );
    let doc: Value = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/tenders/{tender}/documents"),
            Some(owner),
        )
        .multipart(form)
        .send()
        .await?
        .json()
        .await?;
    let path = format!(
        "/api/v1/tenders/{tender}/documents/{}",
        text(&doc["document_id"])
    );
    for reader in readers {
        let res = app.get(&path, Some(reader)).await?;
        anyhow::ensure!(res.status() == StatusCode::OK, "download: {}", res.status());
        res.bytes().await?;
    }
    Ok(())
}

fn time(v: &Value) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default())?.with_timezone(&Utc))
}

/// The messages written to the outbox, as (recipient line, whole text).
fn outbox(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let mut mails = Vec::new();
    if let Ok(entries) = std::fs::read_dir(app.settings.outbox_dir()) {
        for entry in entries {
            mails.push(std::fs::read_to_string(entry?.path())?);
        }
    }
    Ok(mails)
}

#[tokio::test]
async fn art_22_questions_are_published_with_their_answers_but_never_who_asked() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@q.test", "tenderer").await?;
    let (asker, asker_org) = app.member("asker@q.test", "bidder").await?;
    let (other, _) = app.member("other@q.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "答疑测试", 21).await?;
    let questions = format!("/api/v1/tenders/{id}/questions");

    let res = app
        .post(
            &questions,
            &json!({"question": "第三章技术参数是否允许偏离？"}),
            Some(&asker),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let asked: Value = res.json().await?;
    let qid = text(&asked["question_id"]);

    // The owner sees the question, and nothing that names the asker.
    let seen_by_owner = app.get(&questions, Some(&owner)).await?.text().await?;
    assert!(seen_by_owner.contains("技术参数"));
    for secret in [asker_org.as_str(), "asker@q.test"] {
        assert!(!seen_by_owner.contains(secret), "{seen_by_owner}");
    }
    let owner_view: Value = serde_json::from_str(&seen_by_owner)?;
    assert_eq!(owner_view["items"][0]["mine"], false);
    // The owner is told there is a question, not by whom.
    let notes = app
        .get("/api/v1/notifications", Some(&owner))
        .await?
        .text()
        .await?;
    assert!(notes.contains("tender.question") && !notes.contains(&asker_org));

    // The asker sees its own; another bidder and the public see nothing yet.
    let mine: Value = app.get(&questions, Some(&asker)).await?.json().await?;
    assert_eq!(mine["items"][0]["mine"], true);
    let theirs: Value = app.get(&questions, Some(&other)).await?.json().await?;
    assert_eq!(theirs["items"], json!([]));
    let public: Value = app.get(&questions, None).await?.json().await?;
    assert_eq!(public["items"], json!([]));

    // Answered: everyone sees question and answer, and the answer is a published clarification.
    let answer_path = format!("{questions}/{qid}/answer");
    let res = app
        .post(
            &answer_path,
            &json!({"answer": "允许，但须在偏离表中列明。"}),
            Some(&owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let clarification: Value = res.json().await?;
    assert_eq!(clarification["question_id"], qid.as_str());
    assert_eq!(clarification["deadline_moved"], false);
    let public: Value = app.get(&questions, None).await?.json().await?;
    assert_eq!(public["items"][0]["answer"], "允许，但须在偏离表中列明。");
    let published: Value = app
        .get(&format!("/api/v1/tenders/{id}/amendments"), None)
        .await?
        .json()
        .await?;
    assert!(text(&published["items"][0]["body"]).contains("技术参数"));
    assert!(!published.to_string().contains(&asker_org));

    // Answering twice is refused; the first answer stands.
    assert_problem(
        app.post(&answer_path, &json!({"answer": "不允许"}), Some(&owner))
            .await?,
        StatusCode::CONFLICT,
        "already_answered",
    )
    .await?;
    // Only the owner answers; a stranger learns nothing of the question.
    assert_problem(
        app.post(&answer_path, &json!({"answer": "x"}), Some(&other))
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn questions_refuse_bad_input_and_non_bidders_and_change_nothing() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@bad.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@bad.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "输入测试", 21).await?;
    let questions = format!("/api/v1/tenders/{id}/questions");
    assert_problem(
        app.post(&questions, &json!({"question": "   "}), Some(&bidder))
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    assert_problem(
        app.post(
            &questions,
            &json!({"question": "x", "who": "me"}),
            Some(&bidder),
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await?;
    assert_problem(
        app.post(&questions, &json!({"question": "自问自答"}), Some(&owner))
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    assert_problem(
        app.post(&questions, &json!({"question": "匿名"}), None)
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    let all: Value = app.get(&questions, Some(&owner)).await?.json().await?;
    assert_eq!(all["items"], json!([]));
    Ok(())
}

#[tokio::test]
async fn art_22_questions_close_ten_days_before_the_deadline_by_the_chronograph() -> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@cut.test", "tenderer").await?;
    app.member("bidder@cut.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "提问截止", 21).await?;
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    let deadline = time(&tender["bid_deadline"])?;
    assert_eq!(
        time(&tender["questions_until"])?,
        deadline - TimeDelta::days(10)
    );

    let runner = Runner::new(worker_context(&app.state)?);
    app.clock.advance(TimeDelta::days(11));
    assert!(runner.run_one().await?, "the cut-off job is due");
    let bidder = app.sign_in("bidder@cut.test", PASSWORD).await?;
    assert_problem(
        app.post(
            &format!("/api/v1/tenders/{id}/questions"),
            &json!({"question": "太晚了吗？"}),
            Some(&bidder),
        )
        .await?,
        StatusCode::CONFLICT,
        "questions_closed",
    )
    .await?;
    // The owners hear that the period ended; a second run of the job changes nothing.
    let owner = app.sign_in("owner@cut.test", PASSWORD).await?;
    let notes: Value = app
        .get("/api/v1/notifications", Some(&owner))
        .await?
        .json()
        .await?;
    assert_eq!(notes["items"][0]["kind"], "tender.questions_closed");
    assert!(
        !tenderhall_domain::tender::service::close_questions(
            app.state.db(),
            &TenderId::parse(&id)?,
            app.state.now()
        )
        .await?
    );
    Ok(())
}

#[tokio::test]
async fn art_21_an_amendment_inside_15_days_moves_the_deadline_is_published_and_mails_every_downloader()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@amend.test", "tenderer").await?;
    let (first, _) = app.member("first@amend.test", "bidder").await?;
    let (second, _) = app.member("second@amend.test", "bidder").await?;
    app.member("never@amend.test", "bidder").await?;
    let (registered, _) = app.member("registered@amend.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "修改测试", 21).await?;
    upload_and_download(&app, &owner, &id, &[&first, &second, &first]).await?;
    // A bidder registered for a lot is preparing a bid too, downloads or not.
    app.post(
        &format!("/api/v1/tenders/{id}/lots/1/registrations"),
        &json!({}),
        Some(&registered),
    )
    .await?;
    let original = time(
        &app.get(&format!("/api/v1/tenders/{id}"), None)
            .await?
            .json::<Value>()
            .await?["bid_deadline"],
    )?;
    let runner = Runner::new(worker_context(&app.state)?);
    while runner.run_one().await? {}

    // Ten days before the deadline, an amendment that affects bids.
    app.clock.advance(TimeDelta::days(11));
    let owner = app.sign_in("owner@amend.test", PASSWORD).await?;
    let amendments = format!("/api/v1/tenders/{id}/amendments");
    let res = app
        .post(
            &amendments,
            &json!({"title": "第一号修改", "body": "工期由 90 日改为 60 日。"}),
            Some(&owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let amendment: Value = res.json().await?;
    let moved_to = app.state.now() + TimeDelta::days(15);
    assert_eq!(amendment["deadline_moved"], true);
    assert_eq!(time(&amendment["previous_bid_deadline"])?, original);
    assert_eq!(time(&amendment["bid_deadline"])?, moved_to);

    // Published: the tender shows the new deadline and everyone reads the amendment.
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(time(&tender["bid_deadline"])?, moved_to);
    assert_eq!(tender["status"], "active");
    let listed: Value = app.get(&amendments, None).await?.json().await?;
    assert_eq!(listed["items"][0]["title"], "第一号修改");
    assert_eq!(listed["items"][0]["seq"], 1);

    // Mailed to each downloader once (the first downloaded twice), and to nobody else.
    while runner.run_one().await? {}
    let mails: Vec<String> = outbox(&app)?
        .into_iter()
        .filter(|m| m.contains("amend.test") && !m.contains("owner@amend.test"))
        .collect();
    let to = |who: &str| {
        mails
            .iter()
            .filter(|m| m.contains(&format!("To: {who}")))
            .count()
    };
    assert_eq!(to("first@amend.test"), 1, "{mails:?}");
    assert_eq!(to("second@amend.test"), 1);
    assert_eq!(to("registered@amend.test"), 1);
    assert_eq!(to("never@amend.test"), 0);
    let first = app.sign_in("first@amend.test", PASSWORD).await?;
    let notes: Value = app
        .get("/api/v1/notifications", Some(&first))
        .await?
        .json()
        .await?;
    assert_eq!(notes["items"][0]["kind"], "tender.amendment");

    // The old deadline passes: the tender stays open (its old deadline job finds nothing to do),
    // and closes at the new one.
    app.clock.set(original + TimeDelta::seconds(1));
    while runner.run_one().await? {}
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(tender["status"], "active");
    app.clock.set(moved_to);
    while runner.run_one().await? {}
    let tender: Value = app
        .get(&format!("/api/v1/tenders/{id}"), None)
        .await?
        .json()
        .await?;
    assert_eq!(tender["status"], "closed");
    Ok(())
}

#[tokio::test]
async fn art_21_a_chosen_deadline_never_comes_earlier_than_the_rule_and_strangers_cannot_amend()
-> TestResult {
    let app = TestApp::spawn_sandbox().await?;
    let (owner, _) = app.member("owner@early.test", "tenderer").await?;
    let (bidder, _) = app.member("bidder@early.test", "bidder").await?;
    let id = app.published_goods_tender(&owner, "提前测试", 21).await?;
    let amendments = format!("/api/v1/tenders/{id}/amendments");
    let too_early = (app.state.now() + TimeDelta::days(10)).to_rfc3339();
    let problem = assert_problem(
        app.post(
            &amendments,
            &json!({"title": "改期", "body": "提前截止", "bid_deadline": too_early}),
            Some(&owner),
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "period_too_short",
    )
    .await?;
    assert!(text(&problem["detail"]).contains("21") || text(&problem["detail"]).contains("二十一"));
    // A later deadline by choice is fine, even for an amendment that does not affect bids.
    let later = app.state.now() + TimeDelta::days(30);
    let res = app
        .post(
            &amendments,
            &json!({"title": "延期", "body": "截止时间延后。", "affects_bids": false, "bid_deadline": later.to_rfc3339()}),
            Some(&owner),
        )
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(time(&res.json::<Value>().await?["bid_deadline"])?, later);
    assert_problem(
        app.post(
            &amendments,
            &json!({"title": "冒充", "body": "无效"}),
            Some(&bidder),
        )
        .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let listed: Value = app.get(&amendments, None).await?.json().await?;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}
