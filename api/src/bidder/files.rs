//! The files of a seal: the bid archive read straight from the bidder's files, and the envelope's
//! file synced to disk as it grows.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;

/// The envelope's file, flushed to disk as it grows: a thread of its own syncs what has been written
/// every `SYNC_EVERY` bytes while sealing goes on, so that the final sync (the envelope is renamed
/// into place only once durable) waits for the last stretch only, not for the whole bid.
pub(super) struct Syncing {
    file: File,
    unsynced: u64,
    nudge: Option<std::sync::mpsc::SyncSender<()>>,
    syncer: Option<std::thread::JoinHandle<()>>,
}

const SYNC_EVERY: u64 = 32 << 20;

impl Syncing {
    pub(super) fn new(file: File) -> std::io::Result<Self> {
        let other = file.try_clone()?;
        // One pending nudge at most: a nudge while a sync runs is covered by the next one.
        let (nudge, nudges) = std::sync::mpsc::sync_channel::<()>(1);
        let syncer = std::thread::spawn(move || {
            for () in nudges {
                // A failure here shows again in `finish`'s own sync, which is the one that counts.
                let _ = other.sync_data();
            }
        });
        Ok(Self {
            file,
            unsynced: 0,
            nudge: Some(nudge),
            syncer: Some(syncer),
        })
    }

    pub(super) fn finish(mut self) -> std::io::Result<()> {
        self.stop();
        self.file.sync_all()
    }

    fn stop(&mut self) {
        self.nudge = None;
        if let Some(syncer) = self.syncer.take() {
            let _ = syncer.join();
        }
    }
}

impl Write for Syncing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            if let Some(nudge) = &self.nudge {
                let _ = nudge.try_send(());
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Drop for Syncing {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The bid archive as one stream: for each file its ustar header (made by the `tar` crate, long
/// names included), then the file read straight into the reader's buffer, then the padding to a
/// 512-byte block; `price.json` first and the end-of-archive blocks last. Every file is opened
/// before sealing starts, so a missing one is reported at once.
pub(super) struct Archive {
    parts: VecDeque<Box<dyn Read + Send>>,
}

impl Archive {
    pub(super) fn new(price: &[u8], files: &[PathBuf], names: &[String]) -> anyhow::Result<Self> {
        let mut parts: VecDeque<Box<dyn Read + Send>> = VecDeque::new();
        let price_entry = entry("price.json", price.len() as u64, price)?;
        parts.push_back(Box::new(std::io::Cursor::new(price_entry)));
        for (path, name) in files.iter().zip(names.iter().skip(1)) {
            let file =
                File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
            let len = file.metadata()?.len();
            // The header (and a long name's extra entry) alone: the data follows from the file.
            let header = entry(name, len, std::io::empty())?;
            parts.push_back(Box::new(std::io::Cursor::new(header)));
            parts.push_back(Box::new(Exact {
                file,
                remaining: len,
                path: path.clone(),
            }));
            let padding = (512 - len % 512) % 512;
            parts.push_back(Box::new(std::io::repeat(0).take(padding)));
        }
        parts.push_back(Box::new(std::io::repeat(0).take(1024)));
        Ok(Self { parts })
    }
}

/// The ustar entry of a regular file `name` of `size` bytes holding `data`: the header, then
/// `data` padded to a block (nothing, when `data` is empty).
fn entry(name: &str, size: u64, data: impl Read) -> std::io::Result<Vec<u8>> {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    let mut builder = tar::Builder::new(Vec::new());
    builder.append_data(&mut header, name, data)?;
    let mut bytes = builder.into_inner()?;
    // `into_inner` ends the archive with two zero blocks; the whole bid's archive ends once.
    bytes.truncate(bytes.len().saturating_sub(1024));
    Ok(bytes)
}

impl Read for Archive {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(part) = self.parts.front_mut() {
            let n = part.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            self.parts.pop_front();
        }
        Ok(0)
    }
}

/// A file read to exactly the length its header gave: one that shrinks or grows while it is being
/// sealed would make a broken archive, so it stops the seal instead.
struct Exact {
    file: File,
    remaining: u64,
    path: PathBuf,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            if self.file.read(&mut probe)? > 0 {
                return Err(self.changed());
            }
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 && want > 0 {
            return Err(self.changed());
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

impl Exact {
    fn changed(&self) -> std::io::Error {
        std::io::Error::other(format!(
            "{} changed while it was being sealed: seal again once it is complete",
            self.path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::{Read, Write};

    use super::Exact;

    fn exact(len: usize, claimed: u64) -> (tempfile::NamedTempFile, Exact) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&vec![7u8; len]).unwrap();
        let reader = Exact {
            file: file.reopen().unwrap(),
            remaining: claimed,
            path: file.path().to_owned(),
        };
        (file, reader)
    }

    /// A file that shrank or grew after its header was written stops the seal with a sentence
    /// naming it, instead of sealing a broken archive.
    #[test]
    fn a_file_that_changes_while_it_is_sealed_stops_the_seal() {
        let (_keep, mut same) = exact(70_000, 70_000);
        let mut out = Vec::new();
        same.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 70_000);

        for (len, claimed) in [(60_000, 70_000), (80_000, 70_000)] {
            let (_keep, mut changed) = exact(len, claimed);
            let err = changed.read_to_end(&mut Vec::new()).unwrap_err();
            assert!(
                err.to_string()
                    .contains("changed while it was being sealed"),
                "{err}"
            );
        }
    }
}
