//! The bidder's own tools in the `tenderhall` binary: `keygen` makes a signing key, `seal` seals a
//! bid on the bidder's machine (docs/spec/envelope.md), streaming: the ustar archive is read straight from
//! the files into the envelope's chunks, so memory stays flat whatever the files' size.

mod files;

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{Ed25519KeyPair, KeyPair};
use rust_decimal::Decimal;
use tenderhall_domain::bid::envelope::{self, SealParams, Sealed};
use tenderhall_domain::id::is_valid_id;
use tenderhall_domain::keys::key_id;

/// Writes a new Ed25519 signing key (PKCS#8 v2) to `out`, readable by its owner only, and returns
/// (public key base64, key id) for `POST /api/v1/organizations/{org}/signing-keys`.
pub fn keygen(out: &Path) -> anyhow::Result<(String, String)> {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
        .map_err(|_| anyhow::anyhow!("no randomness from the operating system"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| anyhow::anyhow!("the new key does not parse"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(out).with_context(|| {
        format!(
            "cannot create {} (an existing key is never overwritten)",
            out.display()
        )
    })?;
    file.write_all(pkcs8.as_ref())?;
    file.sync_all()?;
    let public = pair.public_key().as_ref();
    Ok((STANDARD.encode(public), key_id(public)))
}

/// Reads a PKCS#8 Ed25519 key, DER or PEM, v1 (OpenSSL, Python) or v2 (ring, `keygen`).
pub fn read_signing_key(path: &Path) -> anyhow::Result<Ed25519KeyPair> {
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use rustls_pki_types::pem::PemObject as _;
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read the key {}", path.display()))?;
    let der = if bytes.starts_with(b"-----BEGIN") {
        PrivatePkcs8KeyDer::from_pem_slice(&bytes)
            .map_err(|e| anyhow::anyhow!("{} is not a PKCS#8 PEM key: {e}", path.display()))?
            .secret_pkcs8_der()
            .to_vec()
    } else {
        bytes
    };
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map_err(|e| anyhow::anyhow!("{} is not a PKCS#8 Ed25519 key: {e}", path.display()))
}

/// The base64 Ed25519 signature, by the key at `key`, over the canonical JSON of the document at
/// `file` (an expert's evaluation sheet or report signature, docs/spec/evaluation.md "Sheets").
pub fn sign_json(key: &Path, file: &Path) -> anyhow::Result<String> {
    let pair = read_signing_key(key)?;
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let message = tenderhall_domain::canonical::to_canonical_string(&value);
    Ok(STANDARD.encode(pair.sign(message.as_bytes())))
}

/// What `seal` needs.
pub struct SealRequest {
    pub tender: String,
    pub lot: String,
    pub bidder: String,
    /// The lot's opening public key (base64), as the tender view shows it.
    pub opening_key: String,
    pub signing_key: PathBuf,
    pub price: PathBuf,
    pub files: Vec<PathBuf>,
    pub out: PathBuf,
    /// Show a progress bar on the terminal.
    pub progress: bool,
}

/// Checks `price.json` before anything is sealed: a JSON object for this lot with a currency and
/// a decimal `total_price`, every field a string (docs/spec/envelope.md "Plaintext").
pub fn check_price(bytes: &[u8], lot: &str) -> anyhow::Result<()> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).context("price.json is not JSON")?;
    let Some(fields) = value.as_object() else {
        bail!("price.json must be a JSON object");
    };
    for (name, v) in fields {
        if !v.is_string() {
            bail!("price.json: `{name}` must be a string (amounts are decimal strings)");
        }
    }
    let field = |name: &str| fields.get(name).and_then(|v| v.as_str());
    if field("lot") != Some(lot) {
        bail!("price.json: `lot` must be \"{lot}\", the lot being sealed for");
    }
    match field("currency") {
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) => {}
        _ => bail!("price.json: `currency` must be a code such as \"CNY\""),
    }
    match field("total_price").map(str::parse::<Decimal>) {
        Some(Ok(p)) if p > Decimal::ZERO => Ok(()),
        _ => bail!(
            "price.json: `total_price` must be a positive decimal string such as \"1234567.89\""
        ),
    }
}

/// Seals `price.json` and the files into `out` (written beside it, then renamed, so a failed seal
/// leaves no half envelope). Returns the envelope's SHA-256 and size.
pub fn seal(request: &SealRequest) -> anyhow::Result<Sealed> {
    for (what, id) in [
        ("--tender", &request.tender),
        ("--lot", &request.lot),
        ("--bidder", &request.bidder),
    ] {
        if !is_valid_id(id) {
            bail!("{what} `{id}` is not an id ([A-Za-z0-9_-], 1 to 64 characters)");
        }
    }
    let opening_key = STANDARD
        .decode(request.opening_key.trim())
        .ok()
        .filter(|k| k.len() == 32)
        .context("--opening-key must be the lot's 32-byte public key in base64, as the tender view shows it")?;
    let signing_key = read_signing_key(&request.signing_key)?;
    let price = std::fs::read(&request.price)
        .with_context(|| format!("cannot read {}", request.price.display()))?;
    check_price(&price, &request.lot)?;
    let mut total = price.len() as u64;
    let mut names = vec!["price.json".to_owned()];
    for file in &request.files {
        let meta =
            std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
        if !meta.is_file() {
            bail!("{} is not a regular file", file.display());
        }
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{} has no UTF-8 file name", file.display()))?
            .to_owned();
        if names.contains(&name) {
            bail!("two files are named `{name}`: each name may appear once in a bid");
        }
        names.push(name);
        total += meta.len();
    }

    let progress = request.progress.then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("sealing 密封中");
        bar
    });
    let archive = files::Archive::new(&price, &request.files, &names)?;
    let partial = request.out.with_extension("thb.part");
    let result = (|| {
        // Unbuffered: the envelope is written a whole chunk at a time.
        let mut out = files::Syncing::new(
            File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?,
        )?;
        let input: Box<dyn Read> = match &progress {
            Some(bar) => Box::new(bar.wrap_read(archive)),
            None => Box::new(archive),
        };
        let sealed = envelope::seal(
            &SealParams {
                tender: &request.tender,
                lot: &request.lot,
                bidder: &request.bidder,
                opening_key: &opening_key,
                signing_key: &signing_key,
                created_at: tenderhall_domain::time::rfc3339(chrono::Utc::now()),
            },
            input,
            &mut out,
        )?;
        out.finish()?;
        Ok::<_, anyhow::Error>(sealed)
    })();
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    match result {
        Ok(sealed) => {
            std::fs::rename(&partial, &request.out)
                .with_context(|| format!("cannot write {}", request.out.display()))?;
            Ok(sealed)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// The platform's receipt key from `GET /api/v1/platform/keys`: (raw public key, key id).
pub async fn platform_key(server: &str) -> anyhow::Result<(Vec<u8>, String)> {
    let url = format!("{}/api/v1/platform/keys", server.trim_end_matches('/'));
    let keys: serde_json::Value = reqwest::get(&url)
        .await
        .with_context(|| format!("cannot reach {url}"))?
        .error_for_status()?
        .json()
        .await?;
    let public = keys["receipt_key"]["public_key"]
        .as_str()
        .and_then(|k| STANDARD.decode(k).ok())
        .context("the server's platform key is not base64")?;
    let key_id = keys["receipt_key"]["key_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if key_id != tenderhall_domain::keys::key_id(&public) {
        bail!("the server's platform key id does not match its key");
    }
    Ok((public, key_id))
}

/// Checks a receipt, a withdrawal receipt or an opening record: signed by `public_key` (the
/// platform's) over the canonical JSON of everything but `signature`.
pub fn verify_signed_document(
    document: &serde_json::Value,
    public_key: &[u8],
) -> anyhow::Result<()> {
    let Some(object) = document.as_object() else {
        bail!("not a JSON object");
    };
    let signature = object
        .get("signature")
        .and_then(|s| s.as_str())
        .context("no `signature`")?;
    if object.get("platform_key").and_then(|k| k.as_str()) != Some(key_id(public_key).as_str()) {
        bail!("it names another platform key than the one given");
    }
    let mut unsigned = object.clone();
    unsigned.remove("signature");
    let message =
        tenderhall_domain::canonical::to_canonical_string(&serde_json::Value::Object(unsigned));
    if !tenderhall_domain::keys::verify_ed25519(public_key, message.as_bytes(), signature) {
        bail!(
            "the signature does not verify: the document was changed or not signed by this platform"
        );
    }
    Ok(())
}

/// Uploads a sealed bid with the bidder's token, streaming the file, and checks the receipt: the
/// platform's signature, and that it names this envelope's SHA-256 and size.
pub async fn submit(
    server: &str,
    token: &str,
    tender: &str,
    lot: &str,
    envelope_path: &Path,
) -> anyhow::Result<serde_json::Value> {
    let (sha256, size) = {
        let path = envelope_path.to_owned();
        tokio::task::spawn_blocking(move || -> anyhow::Result<(String, u64)> {
            let mut file =
                File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
            let mut buf = vec![0u8; 1 << 20];
            let mut size = 0u64;
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            Ok((hex::encode(hasher.finish()), size))
        })
        .await??
    };
    let file = tokio::fs::File::open(envelope_path).await?;
    let url = format!(
        "{}/api/v1/tenders/{tender}/lots/{lot}/bid",
        server.trim_end_matches('/')
    );
    let res = reqwest::Client::new()
        .put(&url)
        .bearer_auth(token)
        .header("content-type", "application/vnd.tenderhall.bid")
        .header("content-length", size)
        .body(reqwest::Body::from(file))
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        bail!(
            "the platform refused the bid ({status} {}): {}",
            body["code"].as_str().unwrap_or(""),
            body["detail"].as_str().unwrap_or("")
        );
    }
    let (public, _) = platform_key(server).await?;
    verify_signed_document(&body, &public)?;
    if body["envelope_sha256"].as_str() != Some(sha256.as_str())
        || body["size"].as_u64() != Some(size)
    {
        bail!("the receipt names another envelope than the one sent: {body}");
    }
    Ok(body)
}
