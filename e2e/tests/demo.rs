//! `tenderhall demo` (docs/spec/envelope.md; the sealed-bids issue's demo): on its own it starts a sandbox
//! server on a free port, publishes an accelerated tender, pays three deposits through the sandbox
//! bank, seals and submits three bids, and shows the signed opening record about a minute later;
//! the server then stays up for the newcomer to look around.

use std::process::Stdio;
use std::time::Duration;

use anyhow::bail;
use serde_json::Value;
use tenderhall_e2e::{binary, clean_command, terminate};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn the_demo_runs_a_sealed_bid_tender_to_its_opening_on_a_server_of_its_own()
-> anyhow::Result<()> {
    let mut child = clean_command(&binary()?)
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let Some(stdout) = child.stdout.take() else {
        bail!("no stdout");
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    // A minute to the deadline, then the opening job; five minutes is the demo's own limit.
    let finished = tokio::time::timeout(Duration::from_secs(330), async {
        while let Some(line) = lines.next_line().await? {
            let done = line.contains("keeps running");
            seen.push(line);
            if done {
                return Ok(());
            }
        }
        bail!("the demo stopped before the opening")
    })
    .await;
    let transcript = seen.join("\n");
    let opening_url = seen
        .iter()
        .find_map(|l| l.split("watch the opening at: ").nth(1))
        .map(str::to_owned);
    // While the demo's server still runs, the record it printed is the one everybody gets.
    let record: Option<Value> = match &opening_url {
        Some(url) if matches!(finished, Ok(Ok(()))) => {
            Some(reqwest::get(url).await?.error_for_status()?.json().await?)
        }
        _ => None,
    };
    terminate(&mut child).await?;
    match finished {
        Ok(Ok(())) => {}
        Ok(Err(e)) => bail!("{e}:\n{transcript}"),
        Err(_) => bail!("no opening within 330 s:\n{transcript}"),
    }
    assert!(
        transcript.contains("signature verified: status \"opened\""),
        "{transcript}"
    );
    let opened = seen
        .iter()
        .filter(|l| l.contains(" opened ") && l.contains("deposit paid"))
        .count();
    assert_eq!(
        opened, 3,
        "three bids opened, each deposit paid:\n{transcript}"
    );
    let Some(record) = record else {
        bail!("the demo printed no opening address:\n{transcript}");
    };
    assert_eq!(record["status"], "opened");
    let bids = record["bids"].as_array().cloned().unwrap_or_default();
    assert_eq!(bids.len(), 3, "{record}");
    assert!(
        bids.iter()
            .all(|b| b["status"] == "opened" && b["deposit_status"] == "paid"),
        "{record}"
    );
    Ok(())
}

/// The README promises the same transcript against a server of one's own (`--server URL`): the
/// demo runs to the opening there and prints the signed record too.
#[tokio::test]
async fn the_demo_against_a_running_server_prints_the_signed_opening_record() -> anyhow::Result<()>
{
    let site = tenderhall_e2e::Site::new().await?;
    let server = site.serve(&["--sandbox"]).await?;
    let run = tokio::time::timeout(
        Duration::from_secs(330),
        site.run(&["demo", "--server", &server.base]),
    )
    .await;
    server.stop().await?;
    let (ok, out, err) = match run {
        Ok(result) => result?,
        Err(_) => bail!("the demo did not finish within 330 s"),
    };
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("signature verified: status \"opened\""),
        "{out}"
    );
    let opened = out
        .lines()
        .filter(|l| l.contains(" opened ") && l.contains("deposit paid"))
        .count();
    assert_eq!(opened, 3, "{out}");
    Ok(())
}
