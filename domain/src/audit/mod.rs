//! The audit log (电子招标投标办法 Art 49: every operation with its time, IP address and person).
//!
//! Entries are hash-chained per tender, plus one chain for platform-level events, so tenders
//! never wait on each other. A periodic head, signed with the platform key, commits to the tips of
//! the chains that moved since the previous head and to that previous head, so a history rewritten
//! after a head was published is detectable. Pure: hashing and verification only.

mod kept;
pub mod service;
pub mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::canonical::to_canonical_string;
use crate::time::rfc3339;

/// The `prev_hash` of a chain's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Which chain an entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chain(String);

impl Chain {
    pub const PLATFORM: &'static str = "platform";

    /// Platform-level events: accounts, organizations, keys, operators.
    pub fn platform() -> Self {
        Self(Self::PLATFORM.to_owned())
    }

    /// Everything that happens to one tender.
    pub fn tender(tender_id: &str) -> Self {
        Self(format!("tender:{tender_id}"))
    }

    /// What must stay secret until the bid deadline (who downloaded, registered or bid: 电子招标投标办法
    /// Art 21), kept apart so that the tender's own chain, which supervisors read before the
    /// deadline, shows no gaps that would count the hidden entries.
    pub fn tender_sealed(tender_id: &str) -> Self {
        let (before, after) = Self::TENDER_SEALED;
        Self(format!("{before}{tender_id}{after}"))
    }

    /// What comes before and after the tender's id in [`Chain::tender_sealed`], for a query that
    /// names the chains of tenders it reads.
    pub const TENDER_SEALED: (&'static str, &'static str) = ("tender:", ":sealed");

    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who did it and from where.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    /// An account id, or a label such as `cli` or `system` for work without a person behind it.
    pub id: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    pub fn account(id: &str, ip: Option<String>) -> Self {
        Self {
            id: Some(id.to_owned()),
            ip,
        }
    }

    pub fn anonymous(ip: Option<String>) -> Self {
        Self { id: None, ip }
    }

    /// The command line on the server (operators' admin commands).
    pub fn cli() -> Self {
        Self {
            id: Some("cli".to_owned()),
            ip: None,
        }
    }

    pub fn system() -> Self {
        Self {
            id: Some("system".to_owned()),
            ip: None,
        }
    }
}

/// What a service asks to record.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub chain: Chain,
    pub actor: Actor,
    pub action: &'static str,
    pub object: String,
    pub details: Value,
    /// Hidden from supervisors' views until then (who bid, before the deadline: Art 21).
    pub withheld_until: Option<DateTime<Utc>>,
}

impl NewEntry {
    pub fn new(
        chain: Chain,
        actor: &Actor,
        action: &'static str,
        object: impl Into<String>,
    ) -> Self {
        Self {
            chain,
            actor: actor.clone(),
            action,
            object: object.into(),
            details: Value::Object(Default::default()),
            withheld_until: None,
        }
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// An entry as stored: every field that the hash covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub chain: String,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub object: String,
    /// Canonical JSON text, hashed exactly as stored.
    pub details: String,
    pub withheld_until: Option<DateTime<Utc>>,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: SHA-256 over a domain tag and the canonical JSON of every field but the
/// hash itself.
pub fn entry_hash(e: &Entry) -> String {
    let covered = json!({
        "chain": e.chain,
        "seq": e.seq,
        "at": rfc3339(e.at),
        "actor": e.actor,
        "ip": e.ip,
        "action": e.action,
        "object": e.object,
        "details": e.details,
        "withheld_until": e.withheld_until.map(rfc3339),
        "prev_hash": e.prev_hash,
    });
    let text = format!(
        "tenderhall/audit-entry/v1|{}",
        to_canonical_string(&covered)
    );
    hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

/// Why a chain does not verify, naming the first entry that breaks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub chain: String,
    /// The sequence number where the break shows.
    pub seq: i64,
    pub reason: String,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "chain `{}`, entry {}: {}",
            self.chain, self.seq, self.reason
        )
    }
}

/// Checks entries of one chain arriving in `seq` order, one at a time, so a chain of any length
/// verifies in constant memory.
#[derive(Debug)]
pub struct ChainVerifier {
    chain: String,
    next_seq: i64,
    prev_hash: String,
}

impl ChainVerifier {
    pub fn new(chain: &str) -> Self {
        Self {
            chain: chain.to_owned(),
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
        }
    }

    pub fn push(&mut self, e: &Entry) -> Result<(), ChainBreak> {
        let fail = |seq, reason: String| ChainBreak {
            chain: self.chain.clone(),
            seq,
            reason,
        };
        if e.seq != self.next_seq {
            return Err(fail(
                self.next_seq,
                format!(
                    "entry {} is missing (the next stored entry is {})",
                    self.next_seq, e.seq
                ),
            ));
        }
        if e.prev_hash != self.prev_hash {
            return Err(fail(
                e.seq,
                "its link to the previous entry was changed".to_owned(),
            ));
        }
        if entry_hash(e) != e.hash {
            return Err(fail(
                e.seq,
                "its content was changed after it was written".to_owned(),
            ));
        }
        self.next_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    /// Checks the end of the chain against its recorded tip (a deleted last entry shows here).
    pub fn finish(&self, tip_seq: i64, tip_hash: &str) -> Result<(), ChainBreak> {
        let last = self.next_seq - 1;
        if last != tip_seq {
            return Err(ChainBreak {
                chain: self.chain.clone(),
                seq: last + 1,
                reason: format!(
                    "the chain ends at entry {last} but its tip records entry {tip_seq}"
                ),
            });
        }
        if self.prev_hash != tip_hash {
            return Err(ChainBreak {
                chain: self.chain.clone(),
                seq: last,
                reason: "the last entry does not match the chain's recorded tip".to_owned(),
            });
        }
        Ok(())
    }
}

/// The tip of one chain as a signed head records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainTip {
    pub chain: String,
    pub seq: i64,
    pub hash: String,
}

/// The signed body of an audit head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadBody {
    pub seq: i64,
    pub signed_at: String,
    /// Digest of the previous head's body, or `null` for the first.
    pub prev_digest: Option<String>,
    pub chains: Vec<ChainTip>,
}

impl HeadBody {
    pub fn canonical(&self) -> Result<String, serde_json::Error> {
        Ok(to_canonical_string(&serde_json::to_value(self)?))
    }
}

pub fn digest_hex(text: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()))
}

/// The bytes the platform key signs for a head: a domain tag and the body's digest.
pub fn head_signing_message(digest: &str) -> Vec<u8> {
    format!("tenderhall/audit-head/v1|{digest}").into_bytes()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn chain_of(n: i64) -> Vec<Entry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = Entry {
                    chain: "tender:t1".into(),
                    seq,
                    at: Utc
                        .timestamp_opt(1_800_000_000 + seq, 0)
                        .single()
                        .unwrap_or_default(),
                    actor: Some("acc_1".into()),
                    ip: Some("127.0.0.1".into()),
                    action: "tender.publish".into(),
                    object: "tender:t1".into(),
                    details: "{}".into(),
                    withheld_until: None,
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = entry_hash(&e);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn verify(entries: &[Entry]) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::new("tender:t1");
        for e in entries {
            v.push(e)?;
        }
        let last = chain_of(3)
            .pop()
            .map(|e| (e.seq, e.hash))
            .unwrap_or_default();
        v.finish(last.0, &last.1)
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain_of(3)), Ok(()));
    }

    #[test]
    fn art_49_an_edited_entry_is_named() {
        let mut entries = chain_of(3);
        entries[1].ip = Some("10.0.0.9".into());
        let err = verify(&entries).err();
        assert_eq!(err.map(|e| e.seq), Some(2));
    }

    #[test]
    fn art_49_a_deleted_entry_is_named() {
        let mut entries = chain_of(3);
        entries.remove(1);
        let err = verify(&entries).err();
        assert_eq!(err.map(|e| e.seq), Some(2));
    }

    #[test]
    fn art_49_a_deleted_last_entry_shows_against_the_tip() {
        let mut entries = chain_of(3);
        entries.pop();
        let err = verify(&entries).err();
        assert_eq!(err.map(|e| e.seq), Some(3));
    }

    #[test]
    fn the_withholding_time_is_covered_by_the_hash() {
        let mut entries = chain_of(1);
        let before = entry_hash(&entries[0]);
        entries[0].withheld_until = Some(Utc::now());
        assert_ne!(entry_hash(&entries[0]), before);
    }
}
