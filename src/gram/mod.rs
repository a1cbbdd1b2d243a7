//! Gram matrices at research scale: computed tile by tile into `.npy` files on disk, resumable,
//! and split into the jobs of a job array.
//!
//! An `N1 × N2` kernel is cut into tiles of `rows × rows` example pairs ([`TilePlan`]; for
//! x1 = x2 only the tiles on and above the diagonal, the others are their transposes). Each
//! tile's NNGP and NTK are computed by [`Network::kernel`] on the two slices of examples and
//! written in place into `P.nngp.npy` and `P.ntk.npy` (`npy_out::NpyOut`), so memory holds
//! one tile, whatever N. The tile side depends only on the network and N (the largest side
//! whose kernels fit in [`TILE_BYTES`], unless given), never on the job split or the thread
//! count, so every way of running the same request writes the same bytes:
//!
//! * [`GramRun::write`]: all tiles in one process. The files grow as `P.nngp.npy.partial`
//!   with a journal `P.journal` of the finished tiles; an interrupted run continues with
//!   `resume` and the `.partial` files become the outputs only when every tile is in.
//! * [`GramRun::write_job`]: the tiles of job `I` of `T` (balanced in work) into
//!   `P.tile-I-of-T.{nngp,ntk}.npy` and a manifest `P.tile-I-of-T.json`, written last;
//! * [`assemble`]: the `T` jobs' files into `P.nngp.npy`, `P.ntk.npy`, refusing missing,
//!   foreign or mismatched jobs.

pub(crate) mod journal;
pub(crate) mod npy_out;
pub(crate) mod plan;

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

pub use plan::{Tile, TilePlan};

use crate::data::Batch;
use crate::error::{Error, Result};
use crate::network::Network;
use journal::{fingerprint, Journal};
use npy_out::{npy_header, NpyOut};

/// The memory one tile's kernels may take when the tile side is chosen automatically: 256 MiB.
pub const TILE_BYTES: u128 = 256 << 20;

/// One Gram-matrix request: a network, its inputs and the tiling.
pub struct GramRun<'a> {
    net: &'a Network,
    x1: &'a Batch,
    x2: Option<&'a Batch>,
    plan: TilePlan,
    fingerprint: String,
}

/// What a run wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// Tiles computed by this process.
    pub computed: usize,
    /// Tiles found done in the journal of an interrupted run.
    pub resumed: usize,
    /// Tiles of the whole matrix (or of the job).
    pub total: usize,
    /// Whether every tile is in (false: stopped early by `stop_after`).
    pub complete: bool,
}

/// How [`GramRun::write`] runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOptions {
    /// Continue the interrupted run recorded in `P.journal`.
    pub resume: bool,
    /// Stop after computing this many tiles (the run stays resumable), e.g. to fit a time slot.
    pub stop_after: Option<usize>,
}

/// The [`Error::Io`] of an operation on `path` (for `map_err`).
pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", prefix.display()))
}

impl<'a> GramRun<'a> {
    /// The request; `identity` holds the bytes that define it for resuming and assembling
    /// (the network file and the input files as read), `rows` the tile side (`None`: the
    /// largest that keeps one tile's kernels within [`TILE_BYTES`]).
    pub fn new(
        net: &'a Network,
        x1: &'a Batch,
        x2: Option<&'a Batch>,
        identity: &[&[u8]],
        rows: Option<usize>,
    ) -> Result<Self> {
        net.check_batch(x1, "x1")?;
        if let Some(x2) = x2 {
            net.check_batch(x2, "x2")?;
        }
        let (n1, n2) = (x1.len(), x2.map_or(x1.len(), |x| x.len()));
        let rows = match rows {
            Some(0) => return Err(Error::Invalid("--tile-rows must be at least 1".into())),
            Some(r) => r,
            None => default_rows(net, n1.max(n2)),
        };
        let plan = TilePlan::new(n1, n2, x2.is_none(), rows)?;
        let shape = format!(
            "{n1} {n2} {} {rows} {}",
            plan.symmetric,
            env!("CARGO_PKG_VERSION")
        );
        let mut parts: Vec<&[u8]> = identity.to_vec();
        parts.push(shape.as_bytes());
        Ok(Self {
            net,
            x1,
            x2,
            plan,
            fingerprint: fingerprint(&parts),
        })
    }

    /// The tiling.
    pub fn plan(&self) -> &TilePlan {
        &self.plan
    }

    /// The NNGP and NTK of one tile, row-major (a diagonal tile of x1 = x2 as one symmetric
    /// block).
    pub fn tile_kernels(&self, t: &Tile) -> Result<(Vec<f64>, Vec<f64>)> {
        let a = self.x1.slice(t.r0, t.r1)?;
        let k = if t.is_diagonal(self.plan.symmetric) {
            self.net.kernel(&a, None)?
        } else {
            let b = self.x2.unwrap_or(self.x1).slice(t.c0, t.c1)?;
            self.net.kernel(&a, Some(&b))?
        };
        let cols = t.c1 - t.c0;
        let (nngp, ntk) = k.into_row_major()?;
        for (what, m) in [("NNGP", &nngp), ("NTK", &ntk)] {
            if let Some(at) = m.iter().position(|v| !v.is_finite()) {
                return Err(Error::Numeric(format!(
                    "the {what} is not finite at [{}, {}]; the inputs or scales are too large",
                    t.r0 + at / cols,
                    t.c0 + at % cols
                )));
            }
        }
        Ok((nngp, ntk))
    }

    /// All tiles into `P.nngp.npy` and `P.ntk.npy` (see the module documentation);
    /// `progress(done, total)` after each tile.
    pub fn write(
        &self,
        prefix: &Path,
        options: WriteOptions,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Written> {
        let journal_path = with_suffix(prefix, ".journal");
        let outs = [
            with_suffix(prefix, ".nngp.npy"),
            with_suffix(prefix, ".ntk.npy"),
        ];
        let partial = outs.clone().map(|p| with_suffix(&p, ".partial"));
        let (n1, n2) = (self.plan.n1, self.plan.n2);
        let (mut journal, files) = if options.resume {
            if !journal_path.exists() {
                return Err(Error::Invalid(format!(
                    "--resume: nothing to resume, {} does not exist",
                    journal_path.display()
                )));
            }
            let j = Journal::resume(&journal_path, &self.fingerprint)?;
            let files = [
                NpyOut::reopen(&partial[0], n1, n2)?,
                NpyOut::reopen(&partial[1], n1, n2)?,
            ];
            (j, files)
        } else {
            if journal_path.exists() {
                return Err(Error::Invalid(format!(
                    "an interrupted run of {} exists ({}): pass --resume to continue it, or \
                     remove it and its .partial files",
                    prefix.display(),
                    journal_path.display()
                )));
            }
            let files = [
                NpyOut::create(&partial[0], n1, n2)?,
                NpyOut::create(&partial[1], n1, n2)?,
            ];
            (Journal::create(&journal_path, &self.fingerprint)?, files)
        };
        let tiles = self.plan.tiles();
        let resumed = tiles.iter().filter(|t| journal.is_done(t.i, t.j)).count();
        let mut computed = 0;
        progress(resumed, tiles.len());
        for t in &tiles {
            if journal.is_done(t.i, t.j) {
                continue;
            }
            if options.stop_after.is_some_and(|s| computed >= s) {
                return Ok(Written {
                    computed,
                    resumed,
                    total: tiles.len(),
                    complete: false,
                });
            }
            let (k, theta) = self.tile_kernels(t)?;
            for (file, m) in files.iter().zip([&k, &theta]) {
                file.write_tile(t, m, self.plan.symmetric)?;
            }
            journal.record(t.i, t.j)?;
            computed += 1;
            progress(journal.done_count(), tiles.len());
        }
        for (f, (from, to)) in files.iter().zip(partial.iter().zip(&outs)) {
            // A run of several tiles is made durable before its journal goes; one tile is
            // simply rerun after a crash (like numpy's `save`, no flush to the disk).
            if tiles.len() > 1 {
                f.sync()?;
            }
            std::fs::rename(from, to).map_err(io(to))?;
        }
        std::fs::remove_file(&journal_path).map_err(io(&journal_path))?;
        Ok(Written {
            computed,
            resumed,
            total: tiles.len(),
            complete: true,
        })
    }

    /// The tiles of job `job` of `jobs` into `P.tile-I-of-T.{nngp,ntk}.npy` (the tiles' blocks
    /// one after the other, row-major) and the manifest `P.tile-I-of-T.json`, written last.
    pub fn write_job(
        &self,
        prefix: &Path,
        job: usize,
        jobs: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Written> {
        let tiles = self.plan.job(job, jobs)?;
        let stem = with_suffix(prefix, &format!(".tile-{job}-of-{jobs}"));
        let len: usize = tiles.iter().map(|t| (t.r1 - t.r0) * (t.c1 - t.c0)).sum();
        let files = [
            NpyOut::create(&with_suffix(&stem, ".nngp.npy"), 1, len)?,
            NpyOut::create(&with_suffix(&stem, ".ntk.npy"), 1, len)?,
        ];
        let mut offset = 0;
        progress(0, tiles.len());
        for (n, t) in tiles.iter().enumerate() {
            let (k, theta) = self.tile_kernels(t)?;
            for (file, m) in files.iter().zip([&k, &theta]) {
                file.write_flat(offset, m)?;
            }
            offset += (t.r1 - t.r0) * (t.c1 - t.c0);
            progress(n + 1, tiles.len());
        }
        for f in &files {
            f.sync()?;
        }
        let manifest = json!({
            "format": MANIFEST_FORMAT,
            "fingerprint": self.fingerprint,
            "n1": self.plan.n1,
            "n2": self.plan.n2,
            "symmetric": self.plan.symmetric,
            "rows": self.plan.rows,
            "job": job,
            "jobs": jobs,
            "tiles": tiles.iter().map(|t| [t.i, t.j]).collect::<Vec<_>>(),
        });
        let path = with_suffix(&stem, ".json");
        let tmp = with_suffix(&path, ".partial");
        std::fs::write(&tmp, manifest.to_string() + "\n").map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(Written {
            computed: tiles.len(),
            resumed: 0,
            total: tiles.len(),
            complete: true,
        })
    }
}

const MANIFEST_FORMAT: &str = "eqntk gram tiles 1";

/// The tile side for `n` examples: all of them when their kernels fit in [`TILE_BYTES`],
/// otherwise the largest power of two that does (at least 1).
pub(crate) fn default_rows(net: &Network, n: usize) -> usize {
    let fits = |r: usize| crate::budget::kernel_bytes(net, r, r) <= TILE_BYTES;
    if n == 0 || fits(n) {
        return n.max(1);
    }
    let mut r = 1usize;
    while r * 2 < n && fits(r * 2) {
        r *= 2;
    }
    r
}

/// One job's manifest.
struct Manifest {
    path: PathBuf,
    fingerprint: String,
    plan: TilePlan,
    job: usize,
    jobs: usize,
    tiles: Vec<(usize, usize)>,
}

fn read_manifest(path: &Path) -> Result<Manifest> {
    let bad = |why: &str| Error::Data(format!("{}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(&format!("not JSON ({e})")))?;
    if v["format"] != MANIFEST_FORMAT {
        return Err(bad("not a tile manifest of eqntk kernel --tile"));
    }
    let num = |k: &str| {
        v[k].as_u64()
            .map(|x| x as usize)
            .ok_or_else(|| bad(&format!("`{k}` is missing or not a count")))
    };
    let tiles = v["tiles"]
        .as_array()
        .ok_or_else(|| bad("`tiles` is missing"))?
        .iter()
        .map(|t| match (t[0].as_u64(), t[1].as_u64()) {
            (Some(i), Some(j)) => Ok((i as usize, j as usize)),
            _ => Err(bad("a tile is not [i, j]")),
        })
        .collect::<Result<Vec<_>>>()?;
    let plan = TilePlan::new(
        crate::budget::at_most("n1", num("n1")?, crate::budget::MAX_EXTENT)?,
        crate::budget::at_most("n2", num("n2")?, crate::budget::MAX_EXTENT)?,
        v["symmetric"]
            .as_bool()
            .ok_or_else(|| bad("`symmetric` is missing"))?,
        num("rows")?,
    )?;
    Ok(Manifest {
        path: path.to_path_buf(),
        fingerprint: v["fingerprint"].as_str().unwrap_or_default().to_string(),
        plan,
        job: num("job")?,
        jobs: num("jobs")?,
        tiles,
    })
}

/// Writes `P.nngp.npy` and `P.ntk.npy` from the job files `P.tile-I-of-T.*` of
/// [`GramRun::write_job`]: every job `0 ≤ I < T` must be there, from the same request, with the
/// tiles the plan gives it. Returns the number of jobs.
pub fn assemble(prefix: &Path) -> Result<usize> {
    let dir = match prefix.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = prefix
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Invalid(format!("assemble: {} is not a prefix", prefix.display())))?;
    let mut manifests = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
        let name = entry
            .map_err(io(&dir))?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(rest) = name.strip_prefix(&format!("{base}.tile-")) else {
            continue;
        };
        if rest.ends_with(".json") {
            manifests.push(read_manifest(&dir.join(&name))?);
        }
    }
    manifests.sort_by_key(|m| (m.jobs, m.job));
    let Some(first) = manifests.first() else {
        return Err(Error::Invalid(format!(
            "assemble: no tile jobs of {} ({}.tile-I-of-T.json; run eqntk kernel --tile I/T)",
            prefix.display(),
            prefix.display()
        )));
    };
    let (jobs, plan, fp) = (first.jobs, first.plan, first.fingerprint.clone());
    for m in &manifests {
        if m.jobs != jobs || m.plan != plan || m.fingerprint != fp {
            return Err(Error::Data(format!(
                "assemble: {} belongs to another request than {} (another network, inputs, \
                 tiling or number of jobs)",
                m.path.display(),
                first.path.display()
            )));
        }
    }
    let have: Vec<usize> = manifests.iter().map(|m| m.job).collect();
    if let Some(missing) = (0..jobs).find(|j| !have.contains(j)) {
        return Err(Error::Data(format!(
            "assemble: job {missing} of {jobs} is missing ({}.tile-{missing}-of-{jobs}.json); \
             {} of {jobs} jobs are done",
            prefix.display(),
            have.len()
        )));
    }
    if have.len() != jobs {
        return Err(Error::Data(format!(
            "assemble: a job of {} appears twice",
            prefix.display()
        )));
    }
    let outs = [
        with_suffix(prefix, ".nngp.npy"),
        with_suffix(prefix, ".ntk.npy"),
    ];
    let partial = outs.clone().map(|p| with_suffix(&p, ".partial"));
    let files = [
        NpyOut::create(&partial[0], plan.n1, plan.n2)?,
        NpyOut::create(&partial[1], plan.n1, plan.n2)?,
    ];
    for m in &manifests {
        let job_tiles = plan.job(m.job, jobs)?;
        let want: Vec<(usize, usize)> = job_tiles.iter().map(|t| (t.i, t.j)).collect();
        if m.tiles != want {
            return Err(Error::Data(format!(
                "assemble: {} does not hold the tiles of job {} of {jobs}",
                m.path.display(),
                m.job
            )));
        }
        let stem = with_suffix(prefix, &format!(".tile-{}-of-{jobs}", m.job));
        for (k, file) in files.iter().enumerate() {
            let name = with_suffix(&stem, if k == 0 { ".nngp.npy" } else { ".ntk.npy" });
            let len: usize = job_tiles
                .iter()
                .map(|t| (t.r1 - t.r0) * (t.c1 - t.c0))
                .sum();
            let src = std::fs::File::open(&name).map_err(io(&name))?;
            let header = npy_header(&[1, len]);
            let size = src.metadata().map_err(io(&name))?.len();
            let mut head = vec![0u8; header.len()];
            if size != header.len() as u64 + 8 * len as u64
                || src.read_exact_at(&mut head, 0).is_err()
                || head != header
            {
                return Err(Error::Data(format!(
                    "assemble: {} is not the complete data of job {} ({len} values expected)",
                    name.display(),
                    m.job
                )));
            }
            let mut offset = header.len() as u64;
            for t in &job_tiles {
                let (r, c) = (t.r1 - t.r0, t.c1 - t.c0);
                let mut bytes = vec![0u8; r * c * 8];
                src.read_exact_at(&mut bytes, offset).map_err(io(&name))?;
                offset += bytes.len() as u64;
                let block: Vec<f64> = bytes
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                    .collect();
                file.write_tile(t, &block, plan.symmetric)?;
            }
        }
    }
    for (f, (from, to)) in files.iter().zip(partial.iter().zip(&outs)) {
        f.sync()?;
        std::fs::rename(from, to).map_err(io(to))?;
    }
    Ok(jobs)
}
