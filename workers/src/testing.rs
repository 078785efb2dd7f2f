//! Real test servers on loopback: an S3-compatible one (moto's server) and an SMTP one (aiosmtpd),
//! from the Python that `TENDERHALL_TEST_PYTHON` names. `.ci/run` installs it; elsewhere a test without it says it was
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

/// A real SMTP server on loopback (Python's aiosmtpd) that keeps every message it accepts as a
/// file in `dir`, named in the order received.
pub struct SmtpServer {
    pub port: u16,
    pub dir: std::path::PathBuf,
    _child: Child,
}

const SMTP_SCRIPT: &str = r#"
import os, sys
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
class Keep:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(out, "%04d.eml" % len(os.listdir(out)))
        with open(name + ".part", "wb") as f:
            f.write(envelope.content)
        os.rename(name + ".part", name)
        return "250 Message accepted"
controller = Controller(Keep(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
sys.stdin.read()
"#;

impl SmtpServer {
    /// Starts one, keeping messages in a fresh folder under `parent`, or returns `None` (saying
    /// why) where aiosmtpd is missing outside CI.
    pub async fn start_in(parent: &std::path::Path) -> anyhow::Result<Option<Self>> {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let python = test_python();
        let probe = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .output()
            .await;
        if !probe.is_ok_and(|o| o.status.success()) {
            return unavailable(
                "an SMTP server",
                &format!(
                    "`{python}` has no aiosmtpd (pip install aiosmtpd, or set TENDERHALL_TEST_PYTHON)"
                ),
            );
        }
        let dir = parent.join("received");
        std::fs::create_dir_all(&dir)?;
        let script = parent.join("smtp.py");
        std::fs::write(&script, SMTP_SCRIPT)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(port.to_string())
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await??;
        anyhow::ensure!(
            ready.as_deref() == Some("ready"),
            "the SMTP server did not start"
        );
        Ok(Some(Self {
            port,
            dir,
            _child: child,
        }))
    }

    /// `smtp://` URL of the server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, in order, decoded ([`decoded_mail`]).
    pub fn messages(&self) -> anyhow::Result<Vec<String>> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| Ok(decoded_mail(&std::fs::read_to_string(p)?)))
            .collect()
    }
}

/// A stored message as text: its headers, and its body with a base64 or quoted-printable transfer
/// encoding undone (lettre sends Chinese text as base64), so tests can read links in it.
pub fn decoded_mail(raw: &str) -> String {
    use base64::Engine as _;
    let raw = raw.replace("\r\n", "\n");
    let Some((headers, body)) = raw.split_once("\n\n") else {
        return raw;
    };
    let lower = headers.to_ascii_lowercase();
    let body = if lower.contains("content-transfer-encoding: base64") {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| body.to_owned())
    } else {
        body.replace("=\n", "").replace("=3D", "=")
    };
    format!("{headers}\n\n{body}")
}
