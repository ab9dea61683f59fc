//! A storage backend that reads a file and keeps every write in memory.
//!
//! After a crash redb must repair a file before it can be read, and a repair writes.
//! Running that repair on a scratch copy lets casbah check that the file is its own
//! before it changes a single byte of it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::{Mutex, MutexGuard};

use redb::StorageBackend;

const BLOCK: u64 = 4096;

#[derive(Debug)]
struct Overlay {
    len: u64,
    /// Bytes of the file at or past this offset read as zero (the file was shrunk then grown).
    file_valid: u64,
    blocks: BTreeMap<u64, Box<[u8]>>,
}

#[derive(Debug)]
pub struct Scratch {
    file: File,
    overlay: Mutex<Overlay>,
}

impl Scratch {
    pub fn new(file: File) -> io::Result<Scratch> {
        let len = file.metadata()?.len();
        Ok(Scratch {
            file,
            overlay: Mutex::new(Overlay {
                len,
                file_valid: len,
                blocks: BTreeMap::new(),
            }),
        })
    }

    fn lock(&self) -> io::Result<MutexGuard<'_, Overlay>> {
        self.overlay
            .lock()
            .map_err(|_| io::Error::other("scratch overlay poisoned"))
    }

    /// The current content of one block, from the overlay or the file.
    fn load(&self, o: &Overlay, block: u64) -> io::Result<Box<[u8]>> {
        if let Some(b) = o.blocks.get(&block) {
            return Ok(b.clone());
        }
        let mut buf = vec![0u8; BLOCK as usize].into_boxed_slice();
        let start = block * BLOCK;
        let readable = o.file_valid.saturating_sub(start).min(BLOCK) as usize;
        if readable > 0 {
            self.file.read_exact_at(&mut buf[..readable], start)?;
        }
        Ok(buf)
    }
}

impl StorageBackend for Scratch {
    fn len(&self) -> io::Result<u64> {
        Ok(self.lock()?.len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let o = self.lock()?;
        let end = offset + out.len() as u64;
        if end > o.len {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        // Straight from the file where nothing was written (a check reads every page once),
        // from the overlay where something was.
        if o.blocks
            .range(offset / BLOCK..end.div_ceil(BLOCK))
            .next()
            .is_none()
        {
            let readable = o.file_valid.saturating_sub(offset).min(out.len() as u64) as usize;
            self.file.read_exact_at(&mut out[..readable], offset)?;
            out[readable..].fill(0);
            return Ok(());
        }
        let mut pos = offset;
        while pos < end {
            let block = pos / BLOCK;
            let within = (pos % BLOCK) as usize;
            let n = ((BLOCK as usize) - within).min((end - pos) as usize);
            let at = (pos - offset) as usize;
            let data = self.load(&o, block)?;
            out[at..at + n].copy_from_slice(&data[within..within + n]);
            pos += n as u64;
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut o = self.lock()?;
        if len < o.len {
            o.file_valid = o.file_valid.min(len);
            let first_gone = len.div_ceil(BLOCK);
            o.blocks.retain(|b, _| *b < first_gone);
            if !len.is_multiple_of(BLOCK) {
                let last = len / BLOCK;
                let data = self.load(&o, last)?;
                let mut data = data.into_vec();
                data[(len % BLOCK) as usize..].fill(0);
                o.blocks.insert(last, data.into_boxed_slice());
            }
        }
        o.len = len;
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut o = self.lock()?;
        let end = offset + data.len() as u64;
        let mut pos = offset;
        while pos < end {
            let block = pos / BLOCK;
            let within = (pos % BLOCK) as usize;
            let n = ((BLOCK as usize) - within).min((end - pos) as usize);
            let at = (pos - offset) as usize;
            let mut current = self.load(&o, block)?;
            current[within..within + n].copy_from_slice(&data[at..at + n]);
            o.blocks.insert(block, current);
            pos += n as u64;
        }
        o.len = o.len.max(end);
        Ok(())
    }
}
