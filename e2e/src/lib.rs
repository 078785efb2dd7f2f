//! End-to-end helpers: the real `tenderhall` binary, built once per test run (never a stale one),
//! started on a free port with a temporary data folder, driven over HTTP and its command line.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

pub mod api;
pub mod browser;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The path of a freshly built `tenderhall`. The first call builds it with the same cargo that
/// runs the tests; later calls reuse that build. A benchmark names its release build in
/// `TENDERHALL_E2E_BINARY` instead.
pub fn binary() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("TENDERHALL_E2E_BINARY") {
        return Ok(PathBuf::from(path));
    }
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("e2e/ has no parent")?;
    let mut command = std::process::Command::new(cargo);
    // Cargo gives a test process its package's variables (CARGO_MANIFEST_DIR, CARGO_PKG_NAME, ...).
    // Build scripts such as ring's track those, so passing them on would make this build rebuild
    // half the dependency tree, and the next test build undo it.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let per_package = key.starts_with("CARGO_PKG_")
            || key.starts_with("CARGO_BIN_")
            || matches!(
                key.as_ref(),
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
                    | "CARGO_RUSTC_CURRENT_DIR"
                    | "OUT_DIR"
            );
        if per_package {
            command.env_remove(key.as_ref());
        }
    }
    let output = command
        .current_dir(workspace)
        // The whole workspace's binaries: the same feature resolution as `cargo test --workspace`, so
        // this build reuses the test build's artifacts instead of rebuilding dependencies.
        .args([
            "build",
            "--workspace",
            "--bins",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build")?;
    if !output.status.success() {
        bail!("cargo build of the tenderhall binary failed");
    }
    // The last artifact message for the binary names the executable.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let executable = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "tenderhall")
        .filter_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .next_back()
        .context("cargo build named no tenderhall executable")?;
    Ok(executable)
}

/// Where a test's platform keeps its data: a temporary folder, and the database it points at
/// (SQLite inside the folder, or a fresh PostgreSQL database when `TENDERHALL_TEST_DATABASE_URL`
/// names a server).
pub struct Site {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Site {
    pub async fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let mut env = vec![("TENDERHALL_DATA_DIR".to_owned(), data.display().to_string())];
        if std::env::var("TENDERHALL_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
            let url = tenderhall_domain::store::fresh_test_database_url(dir.path()).await?;
            env.push(("TENDERHALL_DATABASE_URL".to_owned(), url));
            let key = tenderhall_domain::keys::MasterKey::generate()?.to_base64();
            env.push(("TENDERHALL_MASTER_KEY".to_owned(), key));
        }
        Ok(Self { dir, env })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The database URL the binary uses for this site.
    pub fn database_url(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == "TENDERHALL_DATABASE_URL")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| {
                format!(
                    "sqlite://{}?mode=rwc",
                    self.data_dir().join("tenderhall.sqlite3").display()
                )
            })
    }

    /// A `tenderhall` command with this site's environment and nothing else of ours.
    pub fn command(&self, args: &[&str]) -> anyhow::Result<Command> {
        let mut cmd = clean_command(&binary()?);
        cmd.args(args)
            .current_dir(self.dir.path())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        Ok(cmd)
    }

    /// Runs a command to its end; returns (success, stdout, stderr).
    pub async fn run(&self, args: &[&str]) -> anyhow::Result<(bool, String, String)> {
        let out = self.command(args)?.output().await?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// Runs a command with `input` on its standard input; returns (success, stdout, stderr).
    pub async fn run_with_input(
        &self,
        args: &[&str],
        input: &str,
    ) -> anyhow::Result<(bool, String, String)> {
        let mut child = self
            .command(args)?
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take().context("no stdin")?;
        stdin.write_all(input.as_bytes()).await?;
        drop(stdin);
        let out = child.wait_with_output().await?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// Starts `tenderhall worker` with extra variables and waits until it runs (it has opened the
    /// database and will take jobs); it runs until stopped or killed.
    pub async fn worker(&self, env: &[(&str, &str)]) -> anyhow::Result<Child> {
        let mut cmd = self.command(&["worker"])?;
        cmd.envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().context("starting tenderhall worker")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let running = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if line.contains("worker running") {
                    return Ok::<_, anyhow::Error>(true);
                }
            }
            Ok(false)
        })
        .await;
        if !matches!(running, Ok(Ok(true))) {
            bail!("tenderhall worker did not start");
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(child)
    }

    /// Starts `tenderhall serve` on a free port.
    pub async fn serve(&self, extra_args: &[&str]) -> anyhow::Result<Server> {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra_args);
        Server::start(self.command(&args)?).await
    }
}

/// A command for `binary` without any `TENDERHALL_*` variable of the test process.
pub fn clean_command(binary: &Path) -> Command {
    let mut cmd = Command::new(binary);
    for (key, _) in std::env::vars() {
        if key.starts_with("TENDERHALL_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("TENDERHALL_LOG", "warn").kill_on_drop(true);
    cmd
}

/// Stops a child process as an operator would (SIGTERM), waiting for it to exit.
pub async fn terminate(child: &mut Child) -> anyhow::Result<()> {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
        Ok(status) => {
            status?;
        }
        Err(_) => child.kill().await?,
    }
    Ok(())
}

/// A running `tenderhall serve`.
pub struct Server {
    child: Child,
    pub base: String,
    pub output: Vec<String>,
}

impl Server {
    /// Spawns `cmd` and waits (at most a minute) for the line that gives its address.
    pub async fn start(mut cmd: Command) -> anyhow::Result<Self> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting tenderhall")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut output = Vec::new();
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                output.push(line.clone());
                if let Some(rest) = line.split("listening on ").nth(1) {
                    return Ok::<_, anyhow::Error>(Some(rest.trim().to_owned()));
                }
            }
            Ok(None)
        })
        .await;
        let base = match found {
            Ok(Ok(Some(base))) => base,
            Ok(Ok(None)) => bail!("tenderhall exited before listening: {}", output.join("\n")),
            Ok(Err(e)) => return Err(e),
            Err(_) => bail!(
                "tenderhall did not listen within a minute: {}",
                output.join("\n")
            ),
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            base,
            output,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server's process id (to read its memory from `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the server without warning (SIGKILL, as `kill -9`), waiting for it to be gone.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// Stops the server as an operator would (SIGTERM), waiting for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => self.child.kill().await?,
        }
        Ok(())
    }
}
