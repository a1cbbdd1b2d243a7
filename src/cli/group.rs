//! `eqntk group`: character tables, decompositions and self-checks of the groups of eqntk.
//!
//! ```text
//! eqntk group table     G       [--format markdown|latex|json]
//! eqntk group decompose G REP   [--format markdown|latex|json]   REP = regular | signal:N | image:H
//! eqntk group check     G       [--format markdown|latex|json]   exit 0 iff every check holds
//! ```
//!
//! `G` is `C<n>`, `D<n>`, `SO2[:L]` (band limit `L`, default 4), `p4:<H>` or `p4m:<H>`, or a
//! 3-D rotation group `SO3`, `O3`, `O`, `Oh`, `I` (see [`super::group_rotation3`], which also
//! takes `REP = points:P | sphere:L | wigner:l | tensor:a,b`).
//! `SO2` tables are the irreps `chi_k`, `|k| ≤ L`, sampled on the quadrature subgroup `C_{2L+1}`.

use std::f64::consts::PI;

use num_complex::Complex64 as C64;
use rand::{Rng, SeedableRng};
use serde_json::json;

use eqntk::action::{site_action, so2 as so2_action, Domain};
use eqntk::group::{Cyclic, GroupName, So2};
use eqntk::rep::{
    decompose, fourier, multiplicities, so2 as so2_rep, CharacterTable, ClassInfo, GroupWithIrreps,
    IrrepInfo, Rep, TableFormat,
};
use eqntk::{Error, Result};

/// Arguments of `eqntk group`.
#[derive(clap::Args, Debug, Clone)]
pub struct GroupArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: GroupCommand,
}

/// The `eqntk group` subcommands.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum GroupCommand {
    /// Print the character table of a group.
    Table {
        /// C<n>, D<n>, SO2[:L], p4:<H>, p4m:<H>, SO3, O3, O, Oh or I.
        group: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
        format: TableFormat,
    },
    /// Decompose a representation into irreps (multiplicities from characters).
    Decompose {
        /// C<n>, D<n>, SO2[:L], p4[:H], p4m[:H], SO3, O3, O, Oh or I.
        group: String,
        /// regular | signal:N | image:H; for the 3-D groups points:P | sphere:L | wigner:l |
        /// tensor:a,b (| regular for O, Oh, I).
        rep: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
        format: TableFormat,
    },
    /// Check the group axioms, homomorphism and orthogonality of every representation, the
    /// orthogonality relations of characters, and the group Fourier transform.
    Check {
        /// C<n>, D<n>, SO2[:L], p4:<H>, p4m:<H>, SO3, O3, O, Oh or I.
        group: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TableFormat::Markdown)]
        format: TableFormat,
    },
}

/// Run `eqntk group …`: the text to print and whether all checks passed (always true for
/// `table` and `decompose`, which fail through `Err` instead).
pub fn run(args: &GroupArgs) -> Result<(String, bool)> {
    match &args.command {
        GroupCommand::Table { group, format } => Ok((table(group, *format)?, true)),
        GroupCommand::Decompose { group, rep, format } => {
            Ok((decomposition(group, rep, *format)?, true))
        }
        GroupCommand::Check { group, format } => check(group, *format),
    }
}

/// The largest order of a group `group check` verifies.
const MAX_CHECK_ORDER: usize = 256;

/// Checks the memory of tables and irreps of a group of order (or quadrature size) `n`:
/// `n²` cells of rendered text (about 256 bytes each, with their complex values).
pub(super) fn check_table_budget(what: &str, n: usize) -> Result<()> {
    let n = n as u128;
    eqntk::budget::check_values(what, n * n, 256)
}

fn table(group: &str, format: TableFormat) -> Result<String> {
    let spec = match GroupName::parse(group)? {
        GroupName::Planar(spec) => spec,
        GroupName::Rotation3(g) => return super::group_rotation3::table(g, format),
    };
    let n = match spec.so2() {
        Some(so2) => 2 * so2.band_limit() + 1,
        None => spec.order(None).unwrap_or(1),
    };
    check_table_budget(&format!("the character table of {spec}"), n)?;
    let t = match spec.so2() {
        Some(so2) => so2_table(&so2),
        None => GroupWithIrreps::from_spec(&spec, None)?.character_table(),
    };
    Ok(t.render(format))
}

/// SO(2) irreps `chi_k` (`|k| ≤ L`) on the angles `2πj/N` of `C_N`, `N = 2L + 1`.
fn so2_table(so2: &So2) -> CharacterTable {
    let l = so2.band_limit();
    let n = 2 * l + 1;
    let angles = So2::quadrature(n).expect("N ≥ 1");
    let classes = (0..n)
        .map(|j| ClassInfo {
            name: if j == 0 {
                "0".into()
            } else {
                format!("2π·{j}/{n}")
            },
            latex: if j == 0 {
                "0".into()
            } else {
                format!("\\tfrac{{2\\pi\\cdot {j}}}{{{n}}}")
            },
            size: 1,
            representative: j,
        })
        .collect();
    let irreps = so2_rep::irreps(so2);
    CharacterTable {
        group: format!("SO2:{l}"),
        group_latex: format!("\\mathrm{{SO}}(2),\\ |k| \\le {l}"),
        order: None,
        classes,
        irreps: irreps
            .iter()
            .map(|ir| IrrepInfo {
                name: ir.name(),
                latex: ir.latex(),
                dim: ir.dim(),
            })
            .collect(),
        values: irreps
            .iter()
            .map(|ir| angles.iter().map(|&t| ir.character(t)).collect())
            .collect(),
        omega: Some(n),
        note: Some(format!(
            "Columns are the angles of the quadrature subgroup C{n} (2L+1 = {n} points), on which \
             Haar averages of these characters are exact."
        )),
        exact_order: n,
    }
}

enum RepSpec {
    Regular,
    Signal(usize),
    Image(usize),
}

fn parse_rep(s: &str) -> Result<RepSpec> {
    let bad = || {
        Error::Invalid(format!(
            "unknown representation `{s}` (expected regular, signal:N or image:H)"
        ))
    };
    let num = |v: &str| {
        let n = v.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(bad)?;
        eqntk::budget::at_most(&format!("the size in {s}"), n, eqntk::budget::MAX_EXTENT)
    };
    if s == "regular" {
        Ok(RepSpec::Regular)
    } else if let Some(n) = s.strip_prefix("signal:") {
        Ok(RepSpec::Signal(num(n)?))
    } else if let Some(h) = s.strip_prefix("image:") {
        Ok(RepSpec::Image(num(h)?))
    } else {
        Err(bad())
    }
}

fn decomposition(group: &str, rep: &str, format: TableFormat) -> Result<String> {
    let spec = match GroupName::parse(group)? {
        GroupName::Planar(spec) => spec,
        GroupName::Rotation3(g) => return super::group_rotation3::decomposition(g, rep, format),
    };
    let rs = parse_rep(rep)?;
    // A representation is one dim × dim matrix per group element.
    let dim = match rs {
        RepSpec::Regular => spec.order(None).unwrap_or(1),
        RepSpec::Signal(n) => n,
        RepSpec::Image(h) => h.saturating_mul(h),
    } as u128;
    let order = match (&rs, spec.so2()) {
        (_, Some(so2)) => 2 * so2.band_limit() as u128 + 1,
        (RepSpec::Image(h), None) => spec.order(Some(*h)).unwrap_or(1) as u128,
        _ => spec.order(None).unwrap_or(1) as u128,
    };
    if order > eqntk::budget::MAX_GROUP_ORDER as u128 {
        return Err(eqntk::budget::too_large(
            &format!("the order of {spec} acting on {rep}"),
            order,
            eqntk::budget::MAX_GROUP_ORDER,
        ));
    }
    eqntk::budget::check_values(
        &format!("the representation {rep} of {spec}"),
        order.saturating_mul(dim.saturating_mul(dim)),
        8,
    )?;
    check_table_budget(&format!("the irreps of {spec}"), order as usize)?;
    let rows: Vec<(String, String, usize, usize)>; // name, latex, dim, multiplicity
    let (gname, dim);
    if let Some(so2) = spec.so2() {
        let n = match rs {
            RepSpec::Signal(n) => n,
            _ => {
                return Err(Error::Group(format!(
                    "SO2 has no finite {rep} representation here (use signal:N with odd N)"
                )))
            }
        };
        if n % 2 == 0 {
            return Err(Error::Group(format!(
                "SO2 acts on signals of odd length only (band-limited rotation); signal:{n} \
                 supports only C{n}"
            )));
        }
        let chi = |t: f64| -> C64 {
            let m = so2_action::signal_rotation_matrix(n, t).expect("odd n");
            C64::new((0..n).map(|i| m[(i, i)]).sum(), 0.0)
        };
        let m = so2_rep::multiplicities(&so2, chi, n, (n - 1) / 2)?;
        rows = m
            .iter()
            .map(|(ir, k)| (ir.name(), ir.latex(), ir.dim(), *k))
            .collect();
        gname = format!("SO2:{}", so2.band_limit());
        dim = n;
    } else {
        let side = match rs {
            RepSpec::Image(h) => Some(h),
            _ => None,
        };
        let gi = GroupWithIrreps::from_spec(&spec, side)?;
        let g = gi.group.as_ref();
        let r: Rep = match rs {
            RepSpec::Regular => Rep::regular(g),
            RepSpec::Signal(n) => site_action(spec, Domain::Signal, &[n, 1])?.representation(),
            RepSpec::Image(h) => site_action(spec, Domain::Image, &[h, h, 1])?.representation(),
        };
        let m = multiplicities(g, &r, &gi.irreps)?;
        rows = gi
            .irreps
            .iter()
            .zip(&m)
            .map(|(ir, &k)| (ir.name.clone(), ir.latex.clone(), ir.dim(), k))
            .collect();
        gname = g.name();
        dim = r.dim();
    }
    Ok(render_decomposition(&gname, rep, dim, &rows, format))
}

/// The decomposition of `rep` (dimension `dim`) under `gname` as a Markdown table, a LaTeX
/// table or JSON; `rows` are (name, LaTeX name, dimension, multiplicity) per irrep.
pub(super) fn render_decomposition(
    gname: &str,
    rep: &str,
    dim: usize,
    rows: &[(String, String, usize, usize)],
    format: TableFormat,
) -> String {
    match format {
        TableFormat::Json => {
            let ms: Vec<_> = rows
                .iter()
                .map(|(n, _, d, m)| json!({"irrep": n, "dim": d, "multiplicity": m}))
                .collect();
            serde_json::to_string_pretty(
                &json!({"group": gname, "rep": rep, "dim": dim, "multiplicities": ms}),
            )
            .expect("serialisable")
                + "\n"
        }
        TableFormat::Markdown => {
            let sum = direct_sum(rows, false);
            let mut s = format!("Decomposition of {rep} (dimension {dim}) under {gname}:\n\n");
            s += &format!("{rep} = {sum}\n\n| irrep | dim | multiplicity |\n|:--|--:|--:|\n");
            for (n, _, d, m) in rows {
                s += &format!("| {n} | {d} | {m} |\n");
            }
            s
        }
        TableFormat::Latex => {
            let sum = direct_sum(rows, true);
            let label: String = format!("{gname}-{rep}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let mut s = String::from("\\begin{table}[ht]\n  \\centering\n");
            s += &format!(
                "  \\caption{{Decomposition of \\texttt{{{rep}}} (dimension {dim}) under \
                 \\texttt{{{gname}}}: ${sum}$.}}\n"
            );
            s += &format!("  \\label{{tab:decomposition-{label}}}\n");
            s += "  \\begin{tabular}{lrr}\n    \\toprule\n    irrep & dim & multiplicity \\\\\n";
            s += "    \\midrule\n";
            for (_, l, d, m) in rows {
                s += &format!("    ${l}$ & {d} & {m} \\\\\n");
            }
            s += "    \\bottomrule\n  \\end{tabular}\n\\end{table}\n";
            s
        }
    }
}

/// `A1 ⊕ 2·E1` (or LaTeX `A_{1} \oplus 2E_{1}`).
fn direct_sum(rows: &[(String, String, usize, usize)], latex: bool) -> String {
    let terms: Vec<String> = rows
        .iter()
        .filter(|r| r.3 > 0)
        .map(|(n, l, _, m)| match (latex, *m) {
            (false, 1) => n.clone(),
            (false, m) => format!("{m}·{n}"),
            (true, 1) => l.clone(),
            (true, m) => format!("{m}\\,{l}"),
        })
        .collect();
    terms.join(if latex { " \\oplus " } else { " ⊕ " })
}

/// One named check with its measured error.
pub(super) struct Check {
    pub(super) name: String,
    pub(super) error: f64,
    pub(super) tol: f64,
}

pub(super) const TOL: f64 = 1e-9;

fn check(group: &str, format: TableFormat) -> Result<(String, bool)> {
    let spec = match GroupName::parse(group)? {
        GroupName::Planar(spec) => spec,
        GroupName::Rotation3(g) => {
            let (gname, checks) = super::group_rotation3::checks(g)?;
            return Ok(render_checks(&gname, &checks, format));
        }
    };
    let (gname, checks) = match spec.so2() {
        Some(so2) => {
            // Character orthogonality takes about L³ steps.
            eqntk::budget::at_most(
                &format!("the band limit of {spec} for `group check`"),
                so2.band_limit(),
                MAX_CHECK_ORDER,
            )?;
            (format!("SO2:{}", so2.band_limit()), so2_checks(&so2)?)
        }
        None => {
            // The checks multiply every pair of elements in every representation (work about
            // |G|² · Σ d³): bounded so that a check stays a matter of seconds.
            eqntk::budget::at_most(
                &format!("the order of {spec} for `group check`"),
                spec.order(None).unwrap_or(1),
                MAX_CHECK_ORDER,
            )?;
            // The regular representation: |G| matrices of |G| × |G|.
            let n = spec.order(None).unwrap_or(1) as u128;
            eqntk::budget::check_values(
                &format!("the regular representation of {spec}"),
                n.saturating_mul(n).saturating_mul(n),
                8,
            )?;
            check_table_budget(&format!("the irreps of {spec}"), n as usize)?;
            let gi = GroupWithIrreps::from_spec(&spec, None)?;
            (gi.group.name(), finite_checks(&gi)?)
        }
    };
    Ok(render_checks(&gname, &checks, format))
}

/// Checks as a Markdown table, a LaTeX table or JSON, and whether all passed.
pub(super) fn render_checks(gname: &str, checks: &[Check], format: TableFormat) -> (String, bool) {
    let passed = checks.iter().all(|c| c.error <= c.tol);
    let status = |c: &Check| if c.error <= c.tol { "pass" } else { "FAIL" };
    let text = match format {
        TableFormat::Json => {
            let cs: Vec<_> = checks
                .iter()
                .map(|c| {
                    json!({"name": c.name, "error": c.error, "tolerance": c.tol,
                           "passed": c.error <= c.tol})
                })
                .collect();
            serde_json::to_string_pretty(&json!({"group": gname, "passed": passed, "checks": cs}))
                .expect("serialisable")
                + "\n"
        }
        TableFormat::Markdown => {
            let mut s = format!(
                "Checks of {gname}: {}.\n\n| check | error | tolerance | status |\n|:--|--:|--:|:--|\n",
                if passed { "all pass" } else { "FAILED" }
            );
            for c in checks {
                s += &format!(
                    "| {} | {:.1e} | {:.0e} | {} |\n",
                    c.name,
                    c.error,
                    c.tol,
                    status(c)
                );
            }
            s
        }
        TableFormat::Latex => {
            let mut s = String::from("\\begin{table}[ht]\n  \\centering\n");
            s += &format!(
                "  \\caption{{Self-checks of \\texttt{{{gname}}}: {}.}}\n",
                if passed { "all pass" } else { "FAILED" }
            );
            s += "  \\begin{tabular}{lrrl}\n    \\toprule\n    check & error & tolerance & status \\\\\n    \\midrule\n";
            for c in checks {
                s += &format!(
                    "    {} & {:.1e} & {:.0e} & {} \\\\\n",
                    c.name.replace('_', "\\_").replace('#', "\\#"),
                    c.error,
                    c.tol,
                    status(c)
                );
            }
            s += "    \\bottomrule\n  \\end{tabular}\n\\end{table}\n";
            s
        }
    };
    (text, passed)
}

pub(super) fn flag(ok: bool) -> f64 {
    if ok {
        0.0
    } else {
        1.0
    }
}

pub(super) fn finite_checks(gi: &GroupWithIrreps) -> Result<Vec<Check>> {
    let g = gi.group.as_ref();
    let n = g.order();
    let mut out = Vec::new();
    let mut push = |name: &str, error: f64| {
        out.push(Check {
            name: name.into(),
            error,
            tol: TOL,
        })
    };
    push(
        "group axioms (closure, associativity, identity, inverses)",
        flag(g.check_axioms().is_ok()),
    );
    let classes = g.conjugacy_classes();
    let mut count = vec![0usize; n];
    for c in &classes {
        for &x in &c.elements {
            count[x] += 1;
        }
    }
    push(
        "conjugacy classes partition G",
        flag(count.iter().all(|&c| c == 1)),
    );
    let mut hom: f64 = 0.0;
    let mut uni: f64 = 0.0;
    for ir in &gi.irreps {
        hom = hom.max(ir.rep.homomorphism_error(g)?);
        uni = uni.max(ir.rep.unitarity_error());
    }
    push("irreps: ρ(a)ρ(b) = ρ(ab)", hom);
    push("irreps: ρ(g)ᴴρ(g) = I", uni);
    let reg = Rep::regular(g);
    push("regular: ρ(a)ρ(b) = ρ(ab)", reg.homomorphism_error(g)?);
    let t = gi.character_table();
    push(
        "characters: row orthogonality",
        t.row_orthogonality_error()?,
    );
    push(
        "characters: column orthogonality",
        t.column_orthogonality_error()?,
    );
    let sum_d2: usize = gi.irreps.iter().map(|ir| ir.dim().pow(2)).sum();
    push("Σ dim² = order of G", (sum_d2 as f64 - n as f64).abs());
    push(
        "#irreps = #classes",
        (gi.irreps.len() as f64 - classes.len() as f64).abs(),
    );
    let m = multiplicities(g, &reg, &gi.irreps)?;
    let bad = m
        .iter()
        .zip(&gi.irreps)
        .map(|(&m, ir)| (m as f64 - ir.dim() as f64).abs())
        .fold(0.0, f64::max);
    push("regular contains each irrep dim times", bad);
    let dec = decompose(g, &reg, &gi.irreps)?;
    let (rebuild, orth) = dec.rebuild_error(&reg)?;
    push("regular = Q (⊕ψ) Qᴴ", rebuild);
    push("QᴴQ = I", orth);
    let f = fourier::fourier_matrix(g, &gi.irreps)?;
    let fh = faer::Mat::from_fn(n, n, |i, j| f[(j, i)].conj());
    let prod = &f * &fh;
    let mut ferr: f64 = 0.0;
    for i in 0..n {
        for j in 0..n {
            let want = if i == j { 1.0 } else { 0.0 };
            ferr = ferr.max((prod[(i, j)] - want).norm());
        }
    }
    push("Fourier matrix unitary", ferr);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let x: Vec<C64> = (0..n)
        .map(|_| C64::new(rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5))
        .collect();
    let back = fourier::inverse_fourier(g, &gi.irreps, &fourier::fourier(g, &gi.irreps, &x)?)?;
    let inv_err = x
        .iter()
        .zip(&back)
        .map(|(a, b)| (a - b).norm())
        .fold(0.0, f64::max);
    push("inverse Fourier ∘ Fourier = id", inv_err);
    Ok(out)
}

fn so2_checks(so2: &So2) -> Result<Vec<Check>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let angles: Vec<f64> = (0..24).map(|_| rng.random::<f64>() * 2.0 * PI).collect();
    let mut out = Vec::new();
    let mut ax: f64 = 0.0;
    for &a in &angles {
        ax = ax.max(So2::distance(so2.mul(a, so2.identity()), a));
        ax = ax.max(So2::distance(so2.mul(a, so2.inv(a)), 0.0));
        for &b in &angles[..8] {
            for &c in &angles[..8] {
                let l = so2.mul(so2.mul(a, b), c);
                let r = so2.mul(a, so2.mul(b, c));
                ax = ax.max(So2::distance(l, r));
            }
        }
    }
    out.push(Check {
        name: "group axioms (sampled angles)".into(),
        error: ax,
        tol: 1e-12,
    });
    let mut hom: f64 = 0.0;
    let mut uni: f64 = 0.0;
    let all: Vec<so2_rep::So2Irrep> = so2_rep::irreps(so2)
        .into_iter()
        .chain(so2_rep::real_irreps(so2))
        .collect();
    for ir in &all {
        for &a in &angles[..8] {
            let ma = ir.matrix(a);
            let mh = faer::Mat::from_fn(ma.ncols(), ma.nrows(), |i, j| ma[(j, i)].conj());
            let id = &mh * &ma;
            for i in 0..ir.dim() {
                for j in 0..ir.dim() {
                    let want = if i == j { 1.0 } else { 0.0 };
                    uni = uni.max((id[(i, j)] - want).norm());
                }
            }
            for &b in &angles[..8] {
                let p = &ma * ir.matrix(b);
                let q = ir.matrix(so2.mul(a, b));
                for i in 0..ir.dim() {
                    for j in 0..ir.dim() {
                        hom = hom.max((p[(i, j)] - q[(i, j)]).norm());
                    }
                }
            }
        }
    }
    out.push(Check {
        name: "irreps: ρ(a)ρ(b) = ρ(a+b) (sampled)".into(),
        error: hom,
        tol: TOL,
    });
    out.push(Check {
        name: "irreps: ρ(θ)ᴴρ(θ) = I (sampled)".into(),
        error: uni,
        tol: TOL,
    });
    // Character orthogonality by quadrature on C_N with N > 2L (exact).
    let cx = so2_rep::irreps(so2);
    let nq = 2 * so2.band_limit() + 1;
    let mut orth: f64 = 0.0;
    for a in &cx {
        for b in &cx {
            let s = So2::haar_average(nq, |t| a.character(t) * b.character(t).conj())?;
            let want = if a == b { 1.0 } else { 0.0 };
            orth = orth.max((s - want).norm());
        }
    }
    out.push(Check {
        name: format!("characters: orthogonality (quadrature on C{nq})"),
        error: orth,
        tol: TOL,
    });
    // Restriction chi_k → C_m is chi_(k mod m).
    let mut res: f64 = 0.0;
    for m in 1..=6 {
        let c = Cyclic::new(m)?;
        let irr = eqntk::rep::cyclic_irreps(&c);
        for ir in &cx {
            let r = ir.restrict(&c);
            let mult = multiplicities(&c, &r, &irr)?;
            let k = ir.frequency.rem_euclid(m as i64) as usize;
            let ok = mult
                .iter()
                .enumerate()
                .all(|(j, &x)| x == usize::from(j == k));
            res = res.max(flag(ok));
        }
    }
    out.push(Check {
        name: "restriction chi_k ↓ C_m = chi_(k mod m), m ≤ 6".into(),
        error: res,
        tol: TOL,
    });
    Ok(out)
}
