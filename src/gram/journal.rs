//! The journal of a run: which tiles are written, so that an interrupted run can resume.
//!
//! ```text
//! eqntk gram journal 1
//! fingerprint 3f1c…            # network, inputs, tiling: a resumed run must match it
//! done 0 0                     # tile (i, j) is in both output files
//! done 0 1
//! ```
//!
//! A line is appended after the tile is written to both files, so a run killed between the two
//! recomputes that tile; a torn last line is ignored.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::io;
use crate::error::{Error, Result};

const MAGIC: &str = "eqntk gram journal 1";

/// An open journal.
pub struct Journal {
    file: File,
    path: PathBuf,
    done: BTreeSet<(usize, usize)>,
}

impl Journal {
    /// Starts a new journal for a run with `fingerprint`.
    pub fn create(path: &Path, fingerprint: &str) -> Result<Self> {
        let mut file = File::create(path).map_err(io(path))?;
        writeln!(file, "{MAGIC}\nfingerprint {fingerprint}").map_err(io(path))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            done: BTreeSet::new(),
        })
    }

    /// Opens the journal of an interrupted run; an error if it belongs to another run.
    pub fn resume(path: &Path, fingerprint: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let mut lines = text.lines();
        let found = match (lines.next(), lines.next()) {
            (Some(MAGIC), Some(f)) => f.strip_prefix("fingerprint ").unwrap_or(""),
            _ => {
                return Err(Error::Data(format!(
                    "{}: not a journal of eqntk kernel",
                    path.display()
                )))
            }
        };
        if found != fingerprint {
            return Err(Error::Data(format!(
                "{}: the interrupted run used another network, other inputs or another tiling \
                 (fingerprint {found}, this run {fingerprint}); remove it and its .partial files \
                 to start again",
                path.display()
            )));
        }
        let mut done = BTreeSet::new();
        for line in lines {
            let mut w = line.split(' ');
            if let (Some("done"), Some(i), Some(j), None) = (w.next(), w.next(), w.next(), w.next())
            {
                if let (Ok(i), Ok(j)) = (i.parse(), j.parse()) {
                    done.insert((i, j));
                }
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io(path))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            done,
        })
    }

    /// Whether tile `(i, j)` is written.
    pub fn is_done(&self, i: usize, j: usize) -> bool {
        self.done.contains(&(i, j))
    }

    /// Tiles written so far.
    pub fn done_count(&self) -> usize {
        self.done.len()
    }

    /// Records tile `(i, j)` as written.
    pub fn record(&mut self, i: usize, j: usize) -> Result<()> {
        writeln!(self.file, "done {i} {j}").map_err(io(&self.path))?;
        self.done.insert((i, j));
        Ok(())
    }
}

/// FNV-1a (64-bit) of byte strings, each prefixed by its length: the identity of a run.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for p in parts {
        eat(&(p.len() as u64).to_le_bytes());
        eat(p);
    }
    format!("{h:016x}")
}
