//! An `n1 × n2` f64 `.npy` file written in place, block by block.
//!
//! The file is created at its final size with the `.npy` header (format 1.0, `'<f8'`, C order)
//! and blocks are written at their offsets (`pwrite`), so nothing but the block is held in
//! memory and blocks can arrive in any order, from a resumed run too.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::io;
use crate::error::{Error, Result};

/// The `.npy` header of a little-endian f64 C-order array of `shape` (version 1.0, padded so
/// that the data starts at a multiple of 64 bytes, as numpy writes it).
pub fn npy_header(shape: &[usize]) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {dims}, }}");
    // magic (6) + version (2) + length (2) + dict + newline ≡ 0 (mod 64)
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h
}

/// An open `.npy` file of shape `[n1, n2]`.
pub struct NpyOut {
    file: File,
    path: PathBuf,
    n2: usize,
    data_start: u64,
}

impl NpyOut {
    /// Creates (or truncates) `path` at its full size, header written, data zero.
    pub fn create(path: &Path, n1: usize, n2: usize) -> Result<Self> {
        let file = File::create(path).map_err(io(path))?;
        let header = npy_header(&[n1, n2]);
        let bytes = (n1 as u64) * (n2 as u64) * 8;
        file.set_len(header.len() as u64 + bytes)
            .map_err(io(path))?;
        file.write_all_at(&header, 0).map_err(io(path))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            n2,
            data_start: header.len() as u64,
        })
    }

    /// Opens a file made by [`NpyOut::create`] with the same shape, to continue writing it;
    /// an error if its header or size is not that of an `[n1, n2]` array.
    pub fn reopen(path: &Path, n1: usize, n2: usize) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io(path))?;
        let header = npy_header(&[n1, n2]);
        let mut got = vec![0u8; header.len()];
        let len = file.metadata().map_err(io(path))?.len();
        let want = header.len() as u64 + (n1 as u64) * (n2 as u64) * 8;
        if len != want || file.read_exact_at(&mut got, 0).is_err() || got != header {
            return Err(Error::Data(format!(
                "{}: not the partial output of this run (expected a {n1} × {n2} f64 array of \
                 {want} bytes); remove it to start again",
                path.display()
            )));
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
            n2,
            data_start: header.len() as u64,
        })
    }

    /// Writes the `rows × cols` row-major `block` with its top-left entry at `(r0, c0)`;
    /// `transpose` writes `blockᵀ` (`cols × rows`) there instead. Full-width rows go out in
    /// large contiguous writes.
    pub fn write_block(
        &self,
        r0: usize,
        c0: usize,
        block: &[f64],
        (rows, cols): (usize, usize),
        transpose: bool,
    ) -> Result<()> {
        debug_assert_eq!(block.len(), rows * cols);
        let at = |r: usize, c: usize| self.data_start + (((r0 + r) * self.n2 + c0 + c) as u64) * 8;
        if !transpose {
            if cols == self.n2 {
                // whole rows: the block is one contiguous run of the file
                return self.write_values(at(0, 0), block);
            }
            for r in 0..rows {
                self.write_values(at(r, 0), &block[r * cols..(r + 1) * cols])?;
            }
            return Ok(());
        }
        let mut row = Vec::with_capacity(rows);
        for c in 0..cols {
            row.clear();
            row.extend((0..rows).map(|r| block[r * cols + c]));
            self.write_values(at(c, 0), &row)?;
        }
        Ok(())
    }

    /// Writes `values` as little-endian f64 from byte `offset`, a few MiB at a time.
    fn write_values(&self, offset: u64, values: &[f64]) -> Result<()> {
        const CHUNK: usize = 1 << 19;
        let mut buf = Vec::with_capacity(values.len().min(CHUNK) * 8);
        for (n, chunk) in values.chunks(CHUNK).enumerate() {
            buf.clear();
            for v in chunk {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            self.file
                .write_all_at(&buf, offset + (n * CHUNK * 8) as u64)
                .map_err(io(&self.path))?;
        }
        Ok(())
    }

    /// Writes the kernels of tile `t` (row-major) in place; the tile of a symmetric matrix
    /// (x1 = x2) above the diagonal also goes to its transposed place below it.
    pub fn write_tile(&self, t: &super::Tile, block: &[f64], symmetric: bool) -> Result<()> {
        let dims = (t.r1 - t.r0, t.c1 - t.c0);
        self.write_block(t.r0, t.c0, block, dims, false)?;
        if symmetric && t.i != t.j {
            self.write_block(t.c0, t.r0, block, dims, true)?;
        }
        Ok(())
    }

    /// Writes `values` starting at flat entry `offset` (the file as one long row).
    pub fn write_flat(&self, offset: usize, values: &[f64]) -> Result<()> {
        self.write_values(self.data_start + offset as u64 * 8, values)
    }

    /// Flushes the data to the disk.
    pub fn sync(&self) -> Result<()> {
        self.file.sync_data().map_err(io(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_land_where_numpy_readers_find_them() {
        let dir = std::env::temp_dir().join(format!("eqntk-npy-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.npy");
        let out = NpyOut::create(&path, 3, 4).unwrap();
        let a: Vec<f64> = (0..8).map(|k| (10 * (k / 4) + k % 4) as f64).collect();
        let b = [100.0, 101.0];
        out.write_block(0, 0, &a, (2, 4), false).unwrap();
        // bᵀ is 1 × 2: row 2, columns 1..3
        out.write_block(2, 1, &b, (2, 1), true).unwrap();
        drop(out);
        let read = crate::io::read_array(&path).unwrap();
        assert_eq!(read.shape, vec![3, 4]);
        assert_eq!(
            read.values,
            vec![0., 1., 2., 3., 10., 11., 12., 13., 0., 100., 101., 0.]
        );
        assert!(NpyOut::reopen(&path, 3, 4).is_ok());
        assert!(NpyOut::reopen(&path, 4, 3).is_err());
        assert_eq!(npy_header(&[7]).len() % 64, 0);
        std::fs::remove_dir_all(&dir).ok();
    }
}
