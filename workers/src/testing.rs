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

/// moto versions whose S3 server answers wrongly for rust-s3: 5.2.1 answers a completed multipart
/// upload with the wrong root element.
const MOTO_KNOWN_BAD: &[&str] = &["5.2.1"];

/// The Python whose test servers the tests start: `TENDERHALL_TEST_PYTHON`, else the environment
/// `.ci/run` builds (`~/.cache/tenderhall-ci/venv`) when it exists, else `python3`.
pub fn test_python() -> String {
    if let Ok(python) = std::env::var("TENDERHALL_TEST_PYTHON") {
        return python;
    }
    let ci_venv = std::env::var_os("HOME")
        .map(|home| std::path::Path::new(&home).join(".cache/tenderhall-ci/venv/bin/python"));
    match ci_venv {
        Some(path) if path.exists() => path.to_string_lossy().into_owned(),
        _ => "python3".to_owned(),
    }
}

/// A test server that cannot be had: under CI the test fails with `why`; elsewhere it is skipped
/// with `why` printed.
pub fn unavailable<T>(what: &str, why: &str) -> anyhow::Result<Option<T>> {
    if std::env::var("CI").is_ok() {
        anyhow::bail!("CI must provide {what}: {why}");
    }
    eprintln!("{what} test skipped: {why}");
    Ok(None)
}

impl S3Server {
    /// Starts one on a free port, or returns `None` (saying why) where moto is missing or of a
    /// version known not to work, outside CI.
    pub async fn start() -> anyhow::Result<Option<Self>> {
        let python = test_python();
        let probe = Command::new(&python)
            .args(["-c", "import moto, moto.server; print(moto.__version__)"])
            .output()
            .await;
        let version = match probe {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            _ => {
                return unavailable(
                    "an S3 server",
                    &format!(
                        "`{python}` has no moto (pip install 'moto[server]', or set TENDERHALL_TEST_PYTHON to the Python .ci/run prepares)"
                    ),
                );
            }
        };
        if MOTO_KNOWN_BAD.contains(&version.as_str()) {
            return unavailable(
                "an S3 server",
                &format!(
                    "`{python}` has moto {version}, whose S3 server answers multipart uploads wrongly (pip install -U 'moto[server]', or set TENDERHALL_TEST_PYTHON)"
                ),
            );
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
