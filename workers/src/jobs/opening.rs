//! The opening job of a lot (docs/spec/receipts-and-records.md "Opening record"): the domain decides and records; this runs
//! the reading, one bid at a time: the stored envelope streams from the document store into the
//! envelope reader on a blocking thread, and the decrypted archive streams back into the store.
//! A bid that cannot be opened never stops the others.

use std::collections::HashMap;

use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt as _;
use tenderhall_domain::bid::envelope::{self, EnvelopeError, Expect};
use tenderhall_domain::bid::opening::{self, Fault, Outcome, failed_opening};
use tenderhall_domain::bid::price::read_price;
use tenderhall_domain::id::{LotId, TenderId};
use tenderhall_domain::jobs::service::Job;
use tenderhall_domain::keys::key_id;
use tenderhall_domain::ports::ByteStream;

use crate::WorkerContext;
use crate::docstore::BlockingRead;

/// The decrypted bytes kept aside to read `price.json` from (it comes first and is small).
const PRICE_PREFIX: usize = 1 << 20;

pub async fn open_lot(ctx: &WorkerContext, job: &Job) -> anyhow::Result<()> {
    let tender_id = job.payload["tender_id"]
        .as_str()
        .context("opening job without tender_id")?;
    let lot_id = job.payload["lot_id"]
        .as_str()
        .context("opening job without lot_id")?;
    // Ids that are no ids name no lot: nothing is due, as for any unknown one.
    let (Ok(tender), Ok(lot)) = (TenderId::parse(tender_id), LotId::parse(lot_id)) else {
        return Ok(());
    };
    let now = ctx.clock.now();
    let domain = |e: tenderhall_domain::DomainError| anyhow::anyhow!("{e}");
    let Some(lot) = opening::due(&ctx.db, &tender, &lot, now)
        .await
        .map_err(domain)?
    else {
        return Ok(());
    };
    let mut outcomes = HashMap::new();
    if !lot.fails_unopened() {
        let secret = opening::unwrap_key(&ctx.db, &ctx.master_key, &lot, now)
            .await
            .map_err(domain)?;
        // What every envelope must be sealed to: this lot's key, once.
        let recipient = tenderhall_domain::bid::hpke::public_of(&secret)
            .map(|public| key_id(&public))
            .context("the lot's opening key is not an X25519 key")?;
        for bid in lot.bids.iter().filter(|b| b.bid.status == "current") {
            let sealed = Sealed {
                tender: lot.tender_id.to_string(),
                lot: lot.lot_id.to_string(),
                bidder: bid.bid.organization_id.clone(),
                envelope_sha256: bid.bid.envelope_sha256.clone(),
                signer_id: bid.bid.signer_key_id.clone(),
                signer_key: bid.signer_key.clone(),
                opening_fields: lot.opening_fields.clone(),
            };
            let outcome = open_envelope(ctx, sealed, &secret, &recipient).await;
            outcomes.insert(bid.bid.id.clone(), outcome);
        }
    }
    let record = opening::record(
        &ctx.db,
        &ctx.master_key,
        &ctx.signer,
        &lot,
        &outcomes,
        ctx.interest_rate,
        ctx.clock.now(),
    )
    .await
    .map_err(domain)?;
    tracing::info!(
        tender = tender_id,
        lot = lot_id,
        status = record["status"].as_str().unwrap_or_default(),
        bids = lot.bids.len(),
        "lot opening recorded"
    );
    Ok(())
}

/// One stored envelope to open: whose it is and what it must be.
pub struct Sealed {
    pub tender: String,
    pub lot: String,
    pub bidder: String,
    pub envelope_sha256: String,
    pub signer_id: String,
    /// The signing key the envelope names, if still on record.
    pub signer_key: Option<Vec<u8>>,
    pub opening_fields: Vec<String>,
}

/// Opens one stored envelope sealed to `recipient` (a lot's or a round's key): the plaintext
/// goes to the store, `price.json` is read. Never fails: a fault is an outcome.
pub async fn open_envelope(
    ctx: &WorkerContext,
    sealed: Sealed,
    secret: &[u8; 32],
    recipient: &str,
) -> Outcome {
    let sha = sealed.envelope_sha256.clone();
    let Some(signer_key) = sealed.signer_key.clone() else {
        return Outcome::Withdrawn("the bid's signing key is no longer on record".into());
    };
    let envelope_stream = match ctx.store.get(&sha).await {
        Ok(stream) => stream,
        Err(e) => {
            return Outcome::Withdrawn(format!(
                "the stored envelope cannot be read ({e}): it no longer matches its receipt"
            ));
        }
    };
    // Envelope bytes to the reader thread; decrypted bytes from it to the store.
    let (to_reader, from_store) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let (to_store, plaintext) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let plaintext: ByteStream = Box::pin(futures_util::stream::unfold(
        plaintext,
        |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
    ));
    let store = ctx.store.clone();
    let put = tokio::spawn(async move { store.put(plaintext, u64::MAX).await });
    let expect_tender = sealed.tender.clone();
    let expect_lot = sealed.lot.clone();
    let expect_bidder = sealed.bidder.clone();
    let secret = *secret;
    let recipient = recipient.to_owned();
    let signer_id = sealed.signer_id.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let lookup = |id: &str| (id == signer_id).then(|| signer_key.clone());
        let expect = Expect {
            tender: &expect_tender,
            lot: &expect_lot,
            bidder: &expect_bidder,
            recipient: &recipient,
            signer: &lookup,
        };
        let mut sink = PlaintextSink {
            to_store: to_store.clone(),
            prefix: Vec::new(),
        };
        let result = envelope::open(BlockingRead::new(from_store), &expect, &secret, &mut sink);
        if result.is_err() {
            let _ = to_store.blocking_send(Err(std::io::Error::other("the bid did not open")));
        }
        result.map(|_| sink.prefix)
    });
    let mut envelope_stream = envelope_stream;
    while let Some(piece) = envelope_stream.next().await {
        let failed = piece.is_err();
        if to_reader.send(piece).await.is_err() || failed {
            break;
        }
    }
    drop(to_reader);
    let opened = match reader.await {
        Ok(result) => result,
        Err(e) => {
            tracing::error!(error = %e, "envelope reader");
            return Outcome::Withdrawn("the platform failed while opening the envelope".into());
        }
    };
    let stored = put.await;
    match opened {
        Ok(prefix) => match read_price(&prefix, &sealed.lot, &sealed.opening_fields) {
            Ok(fields) => match stored {
                Ok(Ok(object)) => Outcome::Opened {
                    fields,
                    plaintext_sha256: object.sha256,
                },
                _ => Outcome::Withdrawn("the platform could not keep the decrypted bid".into()),
            },
            Err(reason) => Outcome::Revoked(reason),
        },
        Err(e) => classify(ctx, &sha, &e).await,
    }
}

/// Whose fault a failed opening is. The store is asked first whether the envelope is still the
/// one receipted: if not, the platform lost it (withdrawn). Otherwise a data key or chunk that does
/// not decrypt is the bidder's doing (revoked); anything the upload check had already passed and
/// that fails now is the platform's.
async fn classify(ctx: &WorkerContext, sha: &str, error: &EnvelopeError) -> Outcome {
    let intact = matches!(ctx.store.verify(sha).await, Ok(object) if object.sha256 == sha);
    if !intact {
        return failed_opening(
            Fault::Platform,
            "the stored envelope no longer matches its receipt (a platform fault)".into(),
        );
    }
    match error {
        EnvelopeError::WrappedKey | EnvelopeError::Chunk(_) | EnvelopeError::Archive(_) => {
            failed_opening(
                Fault::Bidder,
                format!("the bid cannot be decrypted: {error}"),
            )
        }
        other => failed_opening(
            Fault::Platform,
            format!("the platform could not open the envelope: {other}"),
        ),
    }
}

/// Sends the decrypted archive to the store, keeping its first bytes to read `price.json` from.
struct PlaintextSink {
    to_store: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    prefix: Vec<u8>,
}

impl std::io::Write for PlaintextSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.prefix.len() < PRICE_PREFIX {
            let take = buf.len().min(PRICE_PREFIX - self.prefix.len());
            self.prefix.extend_from_slice(&buf[..take]);
        }
        self.to_store
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::other("the store stopped reading"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
