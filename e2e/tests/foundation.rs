//! The real binary: first start, restarts, operators' commands, the audit check.

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tenderhall_e2e::{Site, binary, clean_command};

type TestResult = anyhow::Result<()>;

const PASSWORD: &str = "correct-horse-42";

fn registration(email: &str, kind: &str) -> Value {
    json!({
        "email": email,
        "password": PASSWORD,
        "name": "王五",
        "organization": {"name": "某某建设有限公司", "kind": kind, "credit_code": "91320000MA1XYW000N"}
    })
}

#[tokio::test]
async fn a_bidder_stays_signed_in_across_a_restart() -> TestResult {
    let site = Site::new().await?;
    let client = reqwest::Client::new();
    let server = site.serve(&[]).await?;

    let res = client
        .post(server.url("/api/v1/accounts"))
        .json(&registration("wang@bidder.test", "bidder"))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = client
        .post(server.url("/api/v1/sessions"))
        .json(&json!({"email": "wang@bidder.test", "password": PASSWORD}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = res.json::<Value>().await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let keys_before: Value = client
        .get(server.url("/api/v1/platform/keys"))
        .send()
        .await?
        .json()
        .await?;
    server.stop().await?;

    let server = site.serve(&[]).await?;
    let me = client
        .get(server.url("/api/v1/sessions/current"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await?["email"], "wang@bidder.test");
    let keys_after: Value = client
        .get(server.url("/api/v1/platform/keys"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        keys_before, keys_after,
        "the platform key changed across a restart"
    );
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn serve_with_nothing_set_creates_its_data_folder_and_answers() -> TestResult {
    let cwd = tempfile::tempdir()?;
    if std::net::TcpListener::bind("127.0.0.1:8080").is_err() {
        anyhow::bail!(
            "port 8080 is taken on this machine: the default-configuration test needs it free"
        );
    }
    let mut cmd = clean_command(&binary()?);
    cmd.arg("serve").current_dir(cwd.path());
    let server = tenderhall_e2e::Server::start(cmd).await?;
    assert_eq!(server.base, "http://127.0.0.1:8080");
    assert!(server.output.iter().any(
        |l| l.contains("TENDERHALL_DATABASE_URL") && l.contains("sqlite://./tenderhall-data/")
    ));
    let health = reqwest::get(server.url("/healthz")).await?;
    assert_eq!(health.status(), StatusCode::OK);
    let ready = reqwest::get(server.url("/readyz")).await?;
    assert_eq!(ready.status(), StatusCode::OK);
    server.stop().await?;

    let data = cwd.path().join("tenderhall-data");
    assert!(data.join("tenderhall.sqlite3").is_file());
    let key = data.join("master.key");
    assert!(key.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key)?.permissions().mode() & 0o777, 0o600);
    }
    Ok(())
}

#[tokio::test]
async fn an_operator_created_on_the_command_line_signs_in_and_verifies_organizations() -> TestResult
{
    let site = Site::new().await?;
    // The password comes on standard input, never in the arguments (which every user can list).
    let (ok, out, err) = site
        .run_with_input(
            &["admin", "create-operator", "--email", "ops@platform.test"],
            &format!("{PASSWORD}\n"),
        )
        .await?;
    assert!(ok, "{out}{err}");
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
    let (ok, _, err) = site
        .run_with_input(
            &["admin", "create-operator", "--email", "ops2@platform.test"],
            "weak\n",
        )
        .await?;
    assert!(!ok);
    assert!(err.contains("at least 10 characters"), "{err}");
    // The old flag still works for scripts written against it, with a warning.
    let (ok, _, err) = site
        .run(&[
            "admin",
            "create-operator",
            "--email",
            "ops3@platform.test",
            "--password",
            PASSWORD,
        ])
        .await?;
    assert!(ok, "{err}");
    assert!(err.contains("lists processes"), "{err}");

    let client = reqwest::Client::new();
    let server = site.serve(&[]).await?;
    let res = client
        .post(server.url("/api/v1/sessions"))
        .json(&json!({"email": "ops@platform.test", "password": PASSWORD}))
        .send()
        .await?;
    assert_eq!(res.status(), StatusCode::CREATED);
    let operator = res.json::<Value>().await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let created: Value = client
        .post(server.url("/api/v1/accounts"))
        .json(&registration("li@tenderer.test", "tenderer"))
        .send()
        .await?
        .json()
        .await?;
    let org = created["organization_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let pending: Value = client
        .get(server.url("/api/v1/organizations?verified=false"))
        .bearer_auth(&operator)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(pending["items"][0]["id"], org.as_str());

    let (ok, out, err) = site.run(&["admin", "verify-org", &org]).await?;
    assert!(ok, "{out}{err}");
    let read: Value = client
        .get(server.url(&format!("/api/v1/organizations/{org}")))
        .bearer_auth(&operator)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(read["verified"], true);

    let (ok, _, err) = site.run(&["admin", "verify-org", "org_missing"]).await?;
    assert!(
        !ok && err.contains("no organization `org_missing`"),
        "{err}"
    );
    server.stop().await?;
    Ok(())
}

#[tokio::test]
async fn audit_verify_names_an_edited_entry_and_a_deleted_one() -> TestResult {
    let site = Site::new().await?;
    let client = reqwest::Client::new();
    let server = site.serve(&[]).await?;
    for i in 0..3 {
        let res = client
            .post(server.url("/api/v1/accounts"))
            .json(&registration(&format!("b{i}@bidder.test"), "bidder"))
            .send()
            .await?;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    server.stop().await?;

    let (ok, out, err) = site.run(&["audit", "verify"]).await?;
    assert!(ok, "an untouched log must verify: {out}{err}");
    assert!(out.contains("audit log intact"));

    let db = tenderhall_domain::store::connect(&site.database_url()).await?;
    db.execute_unprepared(
        "UPDATE audit_entries SET actor = 'acc_someone_else' WHERE chain = 'platform' AND seq = 3",
    )
    .await?;
    db.close().await?;
    let (ok, out, _) = site.run(&["audit", "verify"]).await?;
    assert!(!ok, "a changed entry verified");
    assert!(
        out.contains("BROKEN: chain `platform`, entry 3: its content was changed"),
        "{out}"
    );

    let db = tenderhall_domain::store::connect(&site.database_url()).await?;
    db.execute_unprepared("UPDATE audit_entries SET actor = (SELECT actor FROM audit_entries WHERE chain = 'platform' AND seq = 4) WHERE chain = 'platform' AND seq = 3").await?;
    db.execute_unprepared("DELETE FROM audit_entries WHERE chain = 'platform' AND seq = 2")
        .await?;
    db.close().await?;
    let (ok, out, _) = site.run(&["audit", "verify"]).await?;
    assert!(!ok, "a deleted entry verified");
    assert!(out.contains("BROKEN: chain `platform`, entry 2"), "{out}");
    Ok(())
}

#[tokio::test]
async fn postgres_without_a_master_key_is_refused_with_what_to_do() -> TestResult {
    let mut cmd = clean_command(&binary()?);
    cmd.args(["serve"]).env(
        "TENDERHALL_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output()).await??;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("TENDERHALL_MASTER_KEY is required with PostgreSQL"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn every_subcommand_explains_itself() -> TestResult {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["worker", "--help"],
        vec!["migrate", "--help"],
        vec!["admin", "create-operator", "--help"],
        vec!["admin", "verify-org", "--help"],
        vec!["audit", "verify", "--help"],
    ] {
        let out = clean_command(&binary()?).args(&args).output().await?;
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage:"),
            "{args:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_bad_setting_is_a_clear_error_not_a_crash() -> TestResult {
    let mut cmd = clean_command(&binary()?);
    cmd.args(["migrate"])
        .env("TENDERHALL_LISTEN", "not-an-address");
    let out = cmd.output().await?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TENDERHALL_LISTEN"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    Ok(())
}

#[tokio::test]
async fn the_config_file_is_read_and_the_environment_wins_over_it() -> TestResult {
    let site = Site::new().await?;
    let file = site.dir.path().join("tenderhall.toml");
    std::fs::write(
        &file,
        "session_ttl_minutes = 5\naudit_head_interval_seconds = 7\nsandbox = true\n",
    )?;
    let file = file.display().to_string();
    let mut cmd = site.command(&["serve", "--config", &file, "--listen", "127.0.0.1:0"])?;
    cmd.env("TENDERHALL_SESSION_TTL_MINUTES", "9");
    let server = tenderhall_e2e::Server::start(cmd).await?;
    let setting = |name: &str| {
        server
            .output
            .iter()
            .find(|l| l.trim_start().starts_with(name))
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        setting("TENDERHALL_SESSION_TTL_MINUTES")
            .trim_end()
            .ends_with(" 9"),
        "{:?}",
        server.output
    );
    assert!(
        setting("TENDERHALL_AUDIT_HEAD_INTERVAL_SECONDS")
            .trim_end()
            .ends_with(" 7")
    );
    assert!(setting("TENDERHALL_SANDBOX").contains("1 (sandbox"));

    // The sandbox from the file verifies at once; the lifetime from the environment applies.
    let client = reqwest::Client::new();
    let created: Value = client
        .post(server.url("/api/v1/accounts"))
        .json(&registration("cfg@bidder.test", "bidder"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(created["verified"], true);
    let session: Value = client
        .post(server.url("/api/v1/sessions"))
        .json(&json!({"email": "cfg@bidder.test", "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let expires = session["expires_at"].as_str().unwrap_or_default();
    let expires = chrono_like_minutes_from_now(expires)?;
    assert!(
        (8..=9).contains(&expires),
        "session lasts {expires} minutes"
    );
    server.stop().await?;
    Ok(())
}

/// Whole minutes from now to an RFC 3339 time.
fn chrono_like_minutes_from_now(rfc3339: &str) -> anyhow::Result<i64> {
    let then = chrono::DateTime::parse_from_rfc3339(rfc3339)?;
    Ok((then.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes())
}

#[tokio::test]
async fn ledger_check_proves_the_books_of_a_fresh_platform() -> anyhow::Result<()> {
    let site = Site::new().await?;
    let (ok, out, err) = site.run(&["migrate"]).await?;
    anyhow::ensure!(ok, "migrate: {out}{err}");
    let (ok, out, err) = site.run(&["ledger", "check"]).await?;
    assert!(ok, "ledger check: {out}{err}");
    assert!(out.contains("the ledger balances"), "{out}");
    // A statement that is not CSV names what to fix.
    let files = tempfile::tempdir()?;
    let statement = files.path().join("statement.csv");
    std::fs::write(&statement, "not,a\nstatement\n")?;
    let (ok, _, err) = site
        .run(&["bank", "reconcile", statement.to_str().unwrap_or_default()])
        .await?;
    assert!(!ok);
    assert!(err.contains("line 2"), "{err}");
    Ok(())
}
