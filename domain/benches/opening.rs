//! Opening speed (issue "Sealed bids"): 1,000 sealed bids of 1 MiB each, opened from files the way
//! the opening reads them (hash, signature, binding, every chunk decrypted), on as many threads as
//! there are cores, against the single-core SHA-256 rate of the same envelopes measured in the same
//! run (the envelope's bound on these machines; goal ≥ 80 % of it), with the process's peak memory.
//!
//! `cargo bench -p tenderhall-domain --bench opening` (`BENCH_BIDS`, `BENCH_BID_KIB` to change the
//! load).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use tenderhall_domain::bid::envelope::{self, Expect, SealParams};
use tenderhall_domain::bid::hpke;
use tenderhall_domain::keys::key_id;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The process's peak resident memory, from /proc (Linux).
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bids = env_or("BENCH_BIDS", 1000);
    let bid_bytes = env_or("BENCH_BID_KIB", 1024) * 1024;
    let dir = tempfile::tempdir()?;
    let rng = SystemRandom::new();
    let (secret, public) = hpke::opening_keypair(&rng)?;
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "keygen")?;
    let signing = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| "key")?;
    let signer = signing.public_key().as_ref().to_vec();
    let signer_id = key_id(&signer);
    let recipient = key_id(&public);

    // The bids, sealed to files (not measured).
    let mut plaintext = vec![0u8; bid_bytes];
    let mut paths: Vec<PathBuf> = Vec::with_capacity(bids);
    for i in 0..bids {
        rng_fill(&rng, &mut plaintext)?;
        let path = dir.path().join(format!("{i}.thb"));
        let file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        envelope::seal(
            &SealParams {
                tender: "tnd_bench",
                lot: "1",
                bidder: &format!("org_{i}"),
                opening_key: &public,
                signing_key: &signing,
                created_at: "2026-11-28T08:00:00Z".into(),
            },
            &plaintext[..],
            file,
        )?;
        paths.push(path);
    }
    drop(plaintext);
    let total: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();

    // The anchor: SHA-256 of every envelope on one core, read the same way.
    let started = Instant::now();
    let mut buf = vec![0u8; 1 << 20];
    for path in &paths {
        let mut file = std::fs::File::open(path)?;
        let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        std::hint::black_box(hasher.finish());
    }
    let sha_seconds = started.elapsed().as_secs_f64();

    // The opening: every envelope checked and decrypted, spread over the cores.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = AtomicUsize::new(0);
    let failures = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let lookup = |id: &str| (id == signer_id).then(|| signer.clone());
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    let bidder = format!("org_{i}");
                    let expect = Expect {
                        tender: "tnd_bench",
                        lot: "1",
                        bidder: &bidder,
                        recipient: &recipient,
                        signer: &lookup,
                    };
                    let opened = std::fs::File::open(path)
                        .map_err(envelope::EnvelopeError::Io)
                        .and_then(|file| {
                            envelope::open(
                                std::io::BufReader::with_capacity(1 << 20, file),
                                &expect,
                                &secret,
                                &mut Sink,
                            )
                        });
                    if opened.is_err() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let open_seconds = started.elapsed().as_secs_f64();
    let failed = failures.load(Ordering::Relaxed);
    let mb = total as f64 / 1e6;
    println!(
        "{bids} bids of {} KiB ({mb:.0} MB of envelopes), {threads} threads",
        bid_bytes / 1024
    );
    println!(
        "SHA-256 of the envelopes, one core: {:.0} MB/s ({sha_seconds:.2} s)",
        mb / sha_seconds
    );
    println!(
        "opening: {:.0} bids/s, {:.0} MB/s ({open_seconds:.2} s), {failed} failed",
        bids as f64 / open_seconds,
        mb / open_seconds
    );
    println!(
        "opening / single-core SHA-256 rate: {:.0} % (goal >= 80 %); peak memory {} MiB",
        sha_seconds / open_seconds * 100.0,
        peak_rss_mib()
    );
    if failed > 0 {
        return Err(format!("{failed} bids did not open").into());
    }
    Ok(())
}

fn rng_fill(rng: &SystemRandom, buf: &mut [u8]) -> Result<(), Box<dyn std::error::Error>> {
    use ring::rand::SecureRandom;
    for piece in buf.chunks_mut(1 << 16) {
        rng.fill(piece).map_err(|_| "randomness")?;
    }
    Ok(())
}

/// The decrypted bytes, counted and dropped (the platform streams them to its store).
struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::hint::black_box(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
