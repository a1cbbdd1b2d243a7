//! Where the interpreter keeps the kernel entries of one example pair: the memo's key is three
//! words (layer, kind, examples and angles; the two sites), see `Memo::word` in `interpret`.
//! Entries with sites and without angles go to one dense table per (layer, kind, examples),
//! numbered by the site pair, when the layer has few enough sites; the rest to a hash map.
//! A lookup is then an index, not a hash — most of what a G-CNN's derivation reads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The most site pairs of one dense table (8 MiB of f64); larger layers use the hash map.
const MAX_DENSE: usize = 1 << 20;

/// A NaN no arithmetic produces (signalling, with a payload): an entry not yet computed.
const EMPTY: u64 = 0x7ff4_0000_0000_0e11;

/// The kernel entries of one example pair.
pub(crate) struct Entries {
    layers: Vec<LayerTables>,
    map: RefCell<WordMap<f64>>,
}

/// The dense tables of one layer: `tables[kind · 4 + example₁ · 2 + example₂]`, allocated on
/// first use, entry `site(a) · sites + site(b)`.
struct LayerTables {
    /// Grid points per group element.
    points: u64,
    /// Whether the sites carry a group element, and a grid point: a site word of the other
    /// form goes to the hash map, so that no two sites share an entry.
    lifted: bool,
    grid: bool,
    /// Sites of the layer's output (0: no dense tables).
    sites: usize,
    tables: [RefCell<Vec<f64>>; 8],
}

impl Entries {
    /// Storage for layers `1…L` with `(group order, grid points)` of their outputs (`None` off
    /// a group, without a grid).
    pub(crate) fn new(layers: impl IntoIterator<Item = (Option<usize>, Option<usize>)>) -> Self {
        let layers = layers
            .into_iter()
            .map(|(order, points)| {
                let sites = order.unwrap_or(1) * points.unwrap_or(1);
                LayerTables {
                    points: points.unwrap_or(1) as u64,
                    lifted: order.is_some(),
                    grid: points.is_some(),
                    sites: if sites * sites <= MAX_DENSE { sites } else { 0 },
                    tables: Default::default(),
                }
            })
            .collect();
        Self {
            layers,
            map: RefCell::new(HashMap::default()),
        }
    }

    /// The dense table and entry of `word`, if it has one.
    fn slot(&self, word: &[u64; 3]) -> Option<(&RefCell<Vec<f64>>, usize, usize)> {
        let [head, a, b] = *word;
        let layer = (head >> 40) as usize;
        let t = self.layers.get(layer.checked_sub(1)?)?;
        let form = |w: u64| (w >> 32 != 0, w & 0xffff_ffff != 0);
        if t.sites == 0
            || head & 0x1f_ffff_ffff != 0
            || form(a) != (t.lifted, t.grid)
            || form(b) != (t.lifted, t.grid)
        {
            return None;
        }
        let site = |w: u64| {
            ((w >> 32).saturating_sub(1) * t.points + (w & 0xffff_ffff).saturating_sub(1)) as usize
        };
        let (i, j) = (site(a), site(b));
        if i >= t.sites || j >= t.sites {
            return None;
        }
        let table = &t.tables[((head >> 37) & 7) as usize];
        Some((table, i * t.sites + j, t.sites))
    }

    /// The entry of `word`, if computed.
    pub(crate) fn get(&self, word: &[u64; 3]) -> Option<f64> {
        match self.slot(word) {
            Some((table, k, _)) => table
                .borrow()
                .get(k)
                .copied()
                .filter(|v| v.to_bits() != EMPTY),
            None => self.map.borrow().get(word).copied(),
        }
    }

    /// Keep `v` as the entry of `word`.
    pub(crate) fn insert(&self, word: [u64; 3], v: f64) {
        match self.slot(&word) {
            Some((table, k, sites)) => {
                let mut table = table.borrow_mut();
                if table.is_empty() {
                    table.resize(sites * sites, f64::from_bits(EMPTY));
                }
                table[k] = v;
            }
            None => {
                self.map.borrow_mut().insert(word, v);
            }
        }
    }
}

/// A hash map keyed by three machine words.
pub(crate) type WordMap<V> = HashMap<[u64; 3], V, BuildHasherDefault<WordHasher>>;

/// A multiply-rotate hash of machine words (the keys are three words).
#[derive(Default)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, w: usize) {
        self.write_u64(w as u64);
    }
}
