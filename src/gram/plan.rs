//! Which tiles a Gram matrix is cut into, and which tiles a job of a job array computes.

use crate::error::{Error, Result};

/// One tile: rows `[r0, r1)` of x1 against rows `[c0, c1)` of x2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tile {
    /// Row block index.
    pub i: usize,
    /// Column block index.
    pub j: usize,
    /// First row.
    pub r0: usize,
    /// One past the last row.
    pub r1: usize,
    /// First column.
    pub c0: usize,
    /// One past the last column.
    pub c1: usize,
}

impl Tile {
    /// A diagonal tile of a symmetric Gram matrix (x1 = x2), computed as one symmetric block.
    pub fn is_diagonal(&self, symmetric: bool) -> bool {
        symmetric && self.i == self.j
    }
    /// Pairs of examples the tile evaluates (the triangle of a diagonal tile).
    pub fn work(&self, symmetric: bool) -> u128 {
        let (r, c) = ((self.r1 - self.r0) as u128, (self.c1 - self.c0) as u128);
        if self.is_diagonal(symmetric) {
            r * (r + 1) / 2
        } else {
            r * c
        }
    }
}

/// The tiling of an `n1 × n2` Gram matrix into blocks of `rows` examples a side; for x1 = x2
/// (`symmetric`) only the tiles on and above the diagonal, the others being their transposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TilePlan {
    /// Examples of x1.
    pub n1: usize,
    /// Examples of x2.
    pub n2: usize,
    /// x2 is x1.
    pub symmetric: bool,
    /// Examples per tile side.
    pub rows: usize,
}

impl TilePlan {
    /// The plan; `rows ≥ 1`.
    pub fn new(n1: usize, n2: usize, symmetric: bool, rows: usize) -> Result<Self> {
        if rows == 0 {
            return Err(Error::Invalid("tiles need at least 1 row".into()));
        }
        if symmetric && n1 != n2 {
            return Err(Error::Invalid(format!(
                "a symmetric Gram matrix is square, got {n1} × {n2}"
            )));
        }
        Ok(Self {
            n1,
            n2,
            symmetric,
            rows,
        })
    }

    /// Every tile, row block by row block.
    pub fn tiles(&self) -> Vec<Tile> {
        let blocks = |n: usize| n.div_ceil(self.rows);
        let mut out = Vec::new();
        for i in 0..blocks(self.n1) {
            let first = if self.symmetric { i } else { 0 };
            for j in first..blocks(self.n2) {
                out.push(Tile {
                    i,
                    j,
                    r0: i * self.rows,
                    r1: ((i + 1) * self.rows).min(self.n1),
                    c0: j * self.rows,
                    c1: ((j + 1) * self.rows).min(self.n2),
                });
            }
        }
        out
    }

    /// The tiles of job `job` of `jobs`: consecutive runs of the tile list with about equal
    /// work (pairs of examples), so that every job of an array takes about as long.
    pub fn job(&self, job: usize, jobs: usize) -> Result<Vec<Tile>> {
        if jobs == 0 || job >= jobs {
            return Err(Error::Invalid(format!(
                "--tile {job}/{jobs}: the job index must be below the number of jobs (0 ≤ I < T)"
            )));
        }
        let tiles = self.tiles();
        let total: u128 = tiles.iter().map(|t| t.work(self.symmetric)).sum();
        // tile k goes to the job whose share of the cumulative work holds its midpoint
        let mut before = 0u128;
        let mut out = Vec::new();
        for t in tiles {
            let w = t.work(self.symmetric);
            let mid = 2 * before + w; // twice the midpoint, to stay in integers
            let owner = if total == 0 {
                0
            } else {
                ((mid * jobs as u128) / (2 * total)).min(jobs as u128 - 1) as usize
            };
            if owner == job {
                out.push(t);
            }
            before += w;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_matrix_once() {
        for (n1, n2, sym, rows) in [(10, 10, true, 3), (10, 7, false, 4), (5, 5, true, 8)] {
            let plan = TilePlan::new(n1, n2, sym, rows).unwrap();
            let mut seen = vec![0; n1 * n2];
            for t in plan.tiles() {
                for r in t.r0..t.r1 {
                    for c in t.c0..t.c1 {
                        seen[r * n2 + c] += 1;
                        if sym && t.i != t.j {
                            seen[c * n2 + r] += 1;
                        }
                    }
                }
            }
            assert!(
                seen.iter().all(|&s| s == 1),
                "{n1}×{n2} rows {rows}: {seen:?}"
            );
        }
    }

    #[test]
    fn jobs_partition_the_tiles_with_balanced_work() {
        let plan = TilePlan::new(100, 100, true, 7).unwrap();
        let all = plan.tiles();
        for jobs in [1, 2, 5, 13, 200] {
            let mut got: Vec<Tile> = (0..jobs).flat_map(|j| plan.job(j, jobs).unwrap()).collect();
            got.sort();
            let mut want = all.clone();
            want.sort();
            assert_eq!(got, want, "{jobs} jobs");
            if jobs <= 13 {
                let work: Vec<u128> = (0..jobs)
                    .map(|j| {
                        plan.job(j, jobs)
                            .unwrap()
                            .iter()
                            .map(|t| t.work(true))
                            .sum()
                    })
                    .collect();
                let (lo, hi) = (work.iter().min().unwrap(), work.iter().max().unwrap());
                // no job exceeds its share by more than one tile's work (at most 49 pairs)
                let share = work.iter().sum::<u128>() / jobs as u128;
                assert!(*hi <= share + 49 && *lo + 49 >= share, "{work:?}");
            }
        }
        assert!(plan.job(5, 5).is_err());
        assert!(plan.job(0, 0).is_err());
    }
}
