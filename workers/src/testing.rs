//! A real S3-compatible server on loopback for tests (moto's server, from the Python that
//! `TENDERHALL_TEST_PYTHON` names). `.ci/run` installs it; elsewhere a test without it says it was
//! skipped and why, while under CI its absence fails the test.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::process::{Child, Command};

use crate::docstore::S3Settings;

pub struct S3Server {
    pub port: u16,
    child: Child,
}

impl S3Server {
    /// Starts one on a free port, or returns `None` (saying why) where moto is missing outside CI.
    pub async fn start() -> anyhow::Result<Option<Self>> {
        let python =
            std::env::var("TENDERHALL_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let probe = Command::new(&python)
            .args(["-c", "import moto.server"])
            .output()
            .await;
        if !probe.is_ok_and(|o| o.status.success()) {
            if std::env::var("CI").is_ok() {
                anyhow::bail!(
                    "CI must provide an S3 server: `{python}` has no moto (set TENDERHALL_TEST_PYTHON to the Python .ci/run prepares)"
                );
            }
            eprintln!(
                "S3 test skipped: `{python}` has no moto (pip install 'moto[server]', or set TENDERHALL_TEST_PYTHON)"
            );
            return Ok(None);
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(&python)
            .args(["-c", "from moto.server import main; main()"])
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting moto with {python}"))?;
        let server = Self { port, child };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(Some(server));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the S3 server did not start listening on port {port} within 10 s")
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Settings for a fresh bucket on this server.
    pub fn settings(&self, bucket: &str) -> S3Settings {
        S3Settings {
            endpoint: self.endpoint(),
            bucket: bucket.to_owned(),
            // moto refuses the `us-east-1` location constraint that rust-s3 sends when it creates
            // a bucket; any other region is accepted.
            region: "eu-west-1".to_owned(),
            access_key: "tenderhall-test".to_owned(),
            secret_key: "tenderhall-test-secret".to_owned(),
        }
    }

    /// Stops the server: the store becomes unreachable.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}
