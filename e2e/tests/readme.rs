//! The README's "Next steps" block runs as written against a sandbox server: a newcomer who copies
//! it gets what it promises (a published tender, a credited deposit the bidder sees, and at the
//! deadline a lot that failed for lack of bids, 招标投标法 Art 28).

use std::time::Duration;

use anyhow::{Context, bail};
use tenderhall_e2e::Site;

fn next_steps_block() -> anyhow::Result<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))?;
    let (_, rest) = readme
        .split_once("<!-- next-steps:begin -->")
        .context("the README lost its next-steps markers")?;
    let (block, _) = rest
        .split_once("<!-- next-steps:end -->")
        .context("the README lost its next-steps end marker")?;
    let script = block
        .trim()
        .strip_prefix("```sh")
        .and_then(|b| b.strip_suffix("```"))
        .context("the next-steps block is not one ```sh fence")?;
    Ok(script.to_owned())
}

#[tokio::test]
async fn the_readmes_next_steps_run_as_written() -> anyhow::Result<()> {
    let script = next_steps_block()?;
    let site = Site::new().await?;
    let server = site.serve(&["--sandbox"]).await?;
    let run = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .env("BASE", &server.base)
            .output(),
    )
    .await;
    server.stop().await?;
    let out = match run {
        Ok(out) => out?,
        Err(_) => bail!("the README's steps did not finish within 120 s"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    for expected in [
        "active",
        r#""status":"credited""#,
        r#""deposit_status":"paid""#,
        "closed",
        r#""status":"failed""#,
    ] {
        assert!(
            stdout.contains(expected),
            "no {expected} in:\n{stdout}{stderr}"
        );
    }
    Ok(())
}
