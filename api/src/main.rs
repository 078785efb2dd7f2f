//! `tenderhall`: the platform's one program.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tenderhall_api::{Settings, cli, telemetry};

/// mimalloc instead of the system allocator, chosen here in the program, not in the library:
/// glibc's allocator spent a quarter of the process's time under concurrent requests (`perf`, bank
/// notifications, docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "tenderhall",
    version,
    about = "Tenderhall: an electronic public-resource trading platform (电子交易平台)"
)]
struct Args {
    /// A TOML file of settings (the TENDERHALL_* variables still win over it).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform: the HTTP API and the background work. With nothing configured it keeps
    /// everything in ./tenderhall-data (SQLite, documents, mail outbox) and listens on 127.0.0.1:8080.
    Serve {
        /// Sandbox: organizations are verified at once, tenders may be accelerated, sandbox helpers
        /// are on. Never use with real data. Same as TENDERHALL_SANDBOX=1.
        #[arg(long)]
        sandbox: bool,
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Run only the background work (deadlines, mail, signing the audit heads), next to api nodes
    /// on the same database.
    Worker,
    /// Apply the pending database migrations and stop (serve also applies them at start).
    Migrate,
    /// Operator tasks run on the server with its configuration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The durable job queue (deadlines, mail, refunds): see and retry failed work.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// The document store.
    #[command(subcommand)]
    Documents(DocumentsCommand),
    /// The deposit and fee ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// The collecting bank.
    #[command(subcommand)]
    Bank(BankCommand),
    /// The expert pool (评标专家库).
    #[command(subcommand)]
    Experts(ExpertsCommand),
    /// Expert draws: check one from its proof, offline.
    #[command(subcommand)]
    Draw(DrawCommand),
    /// Bidder: make an Ed25519 signing key (PKCS#8) and print its public key and key id, to
    /// register at POST /api/v1/organizations/{org}/signing-keys.
    Keygen {
        /// Where to write the private key; an existing file is never overwritten.
        #[arg(long, value_name = "FILE", default_value = "signing-key.pk8")]
        out: PathBuf,
    },
    /// Expert: sign a JSON document (an evaluation sheet, or `{dissent, expert_id,
    /// report_sha256}` for the report) with your key: prints the base64 Ed25519 signature over
    /// its canonical JSON (docs/spec/evaluation.md "Sheets").
    SignJson {
        /// The PKCS#8 Ed25519 key whose public key you registered.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The JSON document to sign.
        file: PathBuf,
    },
    /// Bidder: seal a bid on this machine (docs/spec/envelope.md): price.json and the bid's files, sealed
    /// to the lot's opening key and signed with the organization's signing key.
    Seal {
        #[arg(long)]
        tender: String,
        #[arg(long)]
        lot: String,
        /// The bidding organization's id (org_...).
        #[arg(long)]
        bidder: String,
        /// The lot's opening public key (base64), as the tender view shows it.
        #[arg(long, value_name = "KEY")]
        opening_key: String,
        /// The PKCS#8 Ed25519 key (DER or PEM) whose public key the organization registered.
        #[arg(long, value_name = "FILE")]
        signing_key: PathBuf,
        /// `{"lot", "currency", "total_price", ...opening fields}`, every value a string.
        #[arg(long, value_name = "FILE")]
        price: PathBuf,
        /// The envelope to write.
        #[arg(long, value_name = "FILE", default_value = "bid.thb")]
        out: PathBuf,
        /// The bid's other files (technical and commercial parts), archived after price.json.
        files: Vec<PathBuf>,
    },
    /// Bidder: upload a sealed bid and print the platform's signed receipt, checked.
    Submit {
        /// The platform, e.g. https://ggzy.example.gov.cn
        #[arg(long, env = "TENDERHALL_SERVER")]
        server: String,
        /// A bidder member's session token (POST /api/v1/sessions).
        #[arg(long, env = "TENDERHALL_TOKEN", hide_env_values = true)]
        token: String,
        #[arg(long)]
        tender: String,
        #[arg(long)]
        lot: String,
        /// Also write the receipt here.
        #[arg(long, value_name = "FILE")]
        receipt_out: Option<PathBuf>,
        /// The envelope `tenderhall seal` wrote.
        envelope: PathBuf,
    },
    /// A whole sealed-bid tender to watch: a sandbox server of its own (or --server), a tenderer,
    /// three bidders, deposits paid, bids sealed and submitted, and the opening a minute later.
    Demo {
        /// Use this sandbox server instead of starting one.
        #[arg(long)]
        server: Option<String>,
    },
    /// Check a receipt, withdrawal receipt or opening record against the platform key; exit 1 if
    /// it does not verify.
    VerifyReceipt {
        /// The JSON document.
        file: PathBuf,
        /// The platform key (base64), as GET /api/v1/platform/keys shows it...
        #[arg(long, value_name = "KEY", conflicts_with = "server")]
        platform_key: Option<String>,
        /// ...or the platform to fetch it from.
        #[arg(long, env = "TENDERHALL_SERVER")]
        server: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum BankCommand {
    /// Match a bank statement (CSV with the header
    /// `bank_txn_id,direction,account_no,amount,currency,booked_at,reference`) against the
    /// platform's notifications and confirmed refunds; exit 1 on any difference.
    Reconcile {
        /// The statement file.
        statement: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum ExpertsCommand {
    /// Import the pool from a CSV with the header
    /// `expert_id,name,email,specialty,region,employer_credit_code,title,years`: each good row
    /// creates or updates an expert (new ones get an activation mail); each bad row is reported by
    /// line and changes nothing. Exit 1 if any row was rejected.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum DrawCommand {
    /// Recompute a draw from its proof alone (the JSON of GET /api/v1/draws/{id}/proof): the
    /// commitment, the eligibility order, the ranking and the seats; name the first part that
    /// differs and exit 1. Needs no server.
    Verify {
        /// The proof.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Prove every journal entry balances, no account is on the wrong side of zero, and the bank's
    /// notifications match the money the ledger shows arriving; exit 1 if not.
    Check,
}

#[derive(Debug, Subcommand)]
enum DocumentsCommand {
    /// Read back every stored document and check its SHA-256 now (workers do it daily at 03:00
    /// China time); exit 1 if any object is damaged or missing.
    Scrub,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// Only jobs of this status: pending, running, done or dead (failed every attempt).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Queue a dead job again, due now, with its attempts reset.
    Retry {
        /// The job's id (job_...), as `jobs list` shows it.
        job_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create a platform operator, who then signs in through POST /api/v1/sessions.
    CreateOperator {
        #[arg(long)]
        email: String,
        /// Kept for scripts written against it; it puts the password in the process list and the
        /// shell's history. Without it the password is asked for on the terminal (twice), or read
        /// from the first line of standard input, or taken from TENDERHALL_OPERATOR_PASSWORD.
        #[arg(long, hide = true)]
        password: Option<String>,
        #[arg(long, default_value = "Platform operator")]
        name: String,
    },
    /// Mark an organization verified, after checking its documents off the platform.
    VerifyOrg {
        /// The organization's id (org_...), as returned at registration.
        org_id: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute every audit chain and every signed head, hold the heads against the copies kept
    /// in the document store, and name the first broken entry; exit 1 if anything was changed or
    /// deleted.
    Verify {
        /// A signed head you kept (the JSON of GET /api/v1/audit/heads/latest): the log must still
        /// hold it unchanged.
        #[arg(long, value_name = "FILE")]
        head: Option<PathBuf>,
    },
    /// Sign a head of the audit chains now (serve and worker do it periodically).
    SignHead,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    // The bidder's tools run on the bidder's machine: no server settings.
    match args.command {
        Command::Keygen { out } => {
            let (public_key, key_id) = tenderhall_api::bidder::keygen(&out)?;
            println!("private key written to {} (keep it secret)", out.display());
            println!("public key: {public_key}");
            println!("key id:     {key_id}");
            return Ok(());
        }
        Command::SignJson { key, file } => {
            println!("{}", tenderhall_api::bidder::sign_json(&key, &file)?);
            return Ok(());
        }
        Command::Seal {
            tender,
            lot,
            bidder,
            opening_key,
            signing_key,
            price,
            out,
            files,
        } => {
            let request = tenderhall_api::bidder::SealRequest {
                tender,
                lot,
                bidder,
                opening_key,
                signing_key,
                price,
                files,
                out: out.clone(),
                progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            };
            let sealed =
                tokio::task::spawn_blocking(move || tenderhall_api::bidder::seal(&request))
                    .await??;
            println!("sealed {} ({} bytes)", out.display(), sealed.size);
            println!("envelope sha256: {}", sealed.sha256);
            return Ok(());
        }
        Command::Submit {
            server,
            token,
            tender,
            lot,
            receipt_out,
            envelope,
        } => {
            let receipt =
                tenderhall_api::bidder::submit(&server, &token, &tender, &lot, &envelope).await?;
            let text = serde_json::to_string_pretty(&receipt)?;
            if let Some(out) = receipt_out {
                std::fs::write(&out, &text)?;
            }
            println!("{text}");
            println!("receipt verified against the platform key 回执签名已验证");
            return Ok(());
        }
        Command::Demo { server } => return tenderhall_api::demo::run(server).await,
        Command::Draw(DrawCommand::Verify { file }) => {
            let text = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let proof: tenderhall_domain::draw::Proof = serde_json::from_slice(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a draw proof: {e}", file.display()))?;
            match tenderhall_domain::draw::verify(&proof) {
                Ok(()) => {
                    println!(
                        "valid: the commitment, the eligibility order, the ranking of {} experts and the {} accepted seats all recompute 抽取结果复核一致",
                        proof.ranking.len(),
                        proof.accepted.len()
                    );
                    return Ok(());
                }
                Err(mismatch) => {
                    anyhow::bail!("the proof does not hold: {mismatch} 抽取结果复核不一致")
                }
            }
        }
        Command::VerifyReceipt {
            file,
            platform_key,
            server,
        } => {
            let document: serde_json::Value = serde_json::from_slice(
                &std::fs::read(&file)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?,
            )
            .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))?;
            let public = match (platform_key, server) {
                (Some(key), _) => {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .decode(key.trim())
                        .map_err(|_| anyhow::anyhow!("--platform-key is not base64"))?
                }
                (None, Some(server)) => tenderhall_api::bidder::platform_key(&server).await?.0,
                (None, None) => anyhow::bail!("give --platform-key or --server"),
            };
            tenderhall_api::bidder::verify_signed_document(&document, &public)?;
            println!(
                "valid: signed by platform key {} 签名有效",
                tenderhall_domain::keys::key_id(&public)
            );
            return Ok(());
        }
        _ => {}
    }
    let mut settings = Settings::load(args.config.as_deref())?;
    telemetry::init_logging(&settings.log_format);
    match args.command {
        Command::Serve { sandbox, listen } => {
            settings.sandbox |= sandbox;
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            settings.validate()?;
            cli::serve(settings).await
        }
        Command::Worker => cli::worker(settings).await,
        Command::Migrate => cli::migrate(&settings).await,
        Command::Admin(AdminCommand::CreateOperator {
            email,
            password,
            name,
        }) => {
            let password = cli::operator_password(password)?;
            let id = cli::create_operator(settings, &email, &password, &name).await?;
            println!("operator {email} created ({id}); sign in through POST /api/v1/sessions");
            Ok(())
        }
        Command::Admin(AdminCommand::VerifyOrg { org_id }) => {
            println!("{}", cli::verify_org(settings, &org_id).await?);
            Ok(())
        }
        Command::Jobs(JobsCommand::List { status, limit }) => {
            cli::jobs_list(&settings, status.as_deref(), limit).await
        }
        Command::Jobs(JobsCommand::Retry { job_id }) => cli::jobs_retry(&settings, &job_id).await,
        Command::Documents(DocumentsCommand::Scrub) => cli::documents_scrub(settings).await,
        Command::Ledger(LedgerCommand::Check) => cli::ledger_check(&settings).await,
        Command::Bank(BankCommand::Reconcile { statement }) => {
            cli::bank_reconcile(&settings, &statement).await
        }
        Command::Experts(ExpertsCommand::Import { file }) => {
            cli::experts_import(&settings, &file).await
        }
        Command::Audit(AuditCommand::Verify { head }) => {
            cli::print_report(&cli::audit_verify(&settings, head.as_deref()).await?)
        }
        Command::Keygen { .. }
        | Command::SignJson { .. }
        | Command::Seal { .. }
        | Command::Submit { .. }
        | Command::Demo { .. }
        | Command::Draw(_)
        | Command::VerifyReceipt { .. } => Ok(()),
        Command::Audit(AuditCommand::SignHead) => {
            match cli::audit_sign_head(settings).await? {
                Some(seq) => println!("signed audit head {seq}"),
                None => println!("nothing changed since the last signed head"),
            }
            Ok(())
        }
    }
}
