//! `eqntk group table|decompose|check` for the 3-D rotation groups `SO3`, `O3`, `O`, `Oh`, `I`.
//!
//! ```text
//! eqntk group table     SO3|O3|O|Oh|I
//! eqntk group decompose SO3|O3|O|Oh|I REP   REP = points:P | sphere:L | wigner:l | tensor:a,b
//!                                               (| regular, for O, Oh, I)
//! eqntk group check     SO3|O3|O|Oh|I
//! ```
//!
//! Finite groups use their computed irreps (`eqntk::rep::polyhedral`) and decompose by
//! characters summed over the elements (the matrices are exercised by `check`); `SO3`/`O3`
//! decompose by characters and Weyl's integration formula (`eqntk::rep::so3`). The `SO3`
//! and `O3` tables list `D^l`, `l ≤ 6` (and both parities for O3) at the rotation angles
//! `ω = 0, π/3, π/2, 2π/3, π` (the classes of rotations of order 1, 6, 4, 3, 2).

use std::f64::consts::PI;

use num_complex::Complex64 as C64;
use rand::SeedableRng;

use super::group::{check_table_budget, finite_checks, flag, render_decomposition, Check, TOL};
use eqntk::group::{FiniteGroup, Matrix3, Polyhedral, Rotation3Group, So3, So3Quadrature, O3};
use eqntk::rep::{
    character_multiplicities, decompose, multiplicities, polyhedral_character_table,
    polyhedral_rep, so3_character, so3_multiplicities, tensor_product_multiplicities, wigner_d_all,
    CharacterTable, ClassInfo, GroupWithIrreps, IrrepInfo, Rep, So3Irrep, So3RepSpec, TableFormat,
};
use eqntk::{Error, Result};

/// The degrees listed by the `SO3` / `O3` tables.
const TABLE_DEGREE: usize = 6;

fn finite(g: Rotation3Group) -> Option<eqntk::group::PolyhedralKind> {
    match g {
        Rotation3Group::Polyhedral(k) => Some(k),
        _ => None,
    }
}

/// `eqntk group table G`.
pub(super) fn table(g: Rotation3Group, format: TableFormat) -> Result<String> {
    let t = match finite(g) {
        Some(kind) => {
            let gi = GroupWithIrreps::from_polyhedral(kind)?;
            let group = Polyhedral::new(kind)?;
            polyhedral_character_table(&group, &gi.irreps)
        }
        None => continuous_table(g),
    };
    Ok(t.render(format))
}

/// `D^l` (`l ≤ 6`) at `ω = 0, π/3, π/2, 2π/3, π`, and at `−R` of those for O(3).
fn continuous_table(g: Rotation3Group) -> CharacterTable {
    let angles = [
        (0.0, "0", "0"),
        (PI / 3.0, "π/3", "\\pi/3"),
        (PI / 2.0, "π/2", "\\pi/2"),
        (2.0 * PI / 3.0, "2π/3", "2\\pi/3"),
        (PI, "π", "\\pi"),
    ];
    let o3 = g == Rotation3Group::O3;
    let signs: &[f64] = if o3 { &[1.0, -1.0] } else { &[1.0] };
    let mut classes = Vec::new();
    let mut elems = Vec::new();
    for &s in signs {
        for &(w, name, latex) in &angles {
            let (name, latex) = if s < 0.0 {
                (format!("-R({name})"), format!("-R({latex})"))
            } else {
                (format!("R({name})"), format!("R({latex})"))
            };
            classes.push(ClassInfo {
                name,
                latex,
                size: 1,
                representative: classes.len(),
            });
            elems.push(Matrix3::rotation_z(w).scale(s));
        }
    }
    let irreps: Vec<So3Irrep> = if o3 {
        [1i8, -1]
            .iter()
            .flat_map(|&p| (0..=TABLE_DEGREE).map(move |l| So3Irrep::with_parity(l, p)))
            .collect()
    } else {
        (0..=TABLE_DEGREE).map(So3Irrep::new).collect()
    };
    CharacterTable {
        group: g.to_string(),
        group_latex: if o3 {
            "\\mathrm{O}(3)".into()
        } else {
            "\\mathrm{SO}(3)".into()
        },
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
            .map(|ir| {
                elems
                    .iter()
                    .map(|m| C64::new(ir.character(m), 0.0))
                    .collect()
            })
            .collect(),
        omega: None,
        note: Some(format!(
            "Columns are rotations by the angle ω (one per conjugacy class of SO(3){}); \
             χ_l(ω) = sin((2l+1)ω/2)/sin(ω/2), rows l ≤ {TABLE_DEGREE}.",
            if o3 {
                ", and their products with −I"
            } else {
                ""
            }
        )),
        exact_order: 12,
    }
}

/// `eqntk group decompose G REP`.
pub(super) fn decomposition(g: Rotation3Group, rep: &str, format: TableFormat) -> Result<String> {
    let gname = g.to_string();
    if let Some(kind) = finite(g) {
        let gi = GroupWithIrreps::from_polyhedral(kind)?;
        let group = Polyhedral::new(kind)?;
        let (m, dim) = if rep == "regular" {
            let r = Rep::regular(&group);
            (multiplicities(&group, &r, &gi.irreps)?, r.dim())
        } else {
            let spec = parse_rep(g, rep)?;
            (
                character_multiplicities(&group, &gi.irreps, spec)?,
                spec.dim(),
            )
        };
        let rows: Vec<_> = gi
            .irreps
            .iter()
            .zip(&m)
            .map(|(ir, &k)| (ir.name.clone(), ir.latex.clone(), ir.dim(), k))
            .collect();
        return Ok(render_decomposition(&gname, rep, dim, &rows, format));
    }
    if rep == "regular" {
        return Err(Error::Group(format!(
            "{gname} is a continuous group and has no finite regular representation (use \
             points:P, sphere:L, wigner:l or tensor:a,b)"
        )));
    }
    let spec = parse_rep(g, rep)?;
    let o3 = g == Rotation3Group::O3;
    let m = so3_multiplicities(|r| spec.character(r), spec.dim(), spec.max_degree(), o3)?;
    let rows: Vec<_> = m
        .iter()
        .map(|(ir, k)| (ir.name(), ir.latex(), ir.dim(), *k))
        .collect();
    Ok(render_decomposition(&gname, rep, spec.dim(), &rows, format))
}

fn parse_rep(g: Rotation3Group, rep: &str) -> Result<So3RepSpec> {
    So3RepSpec::parse(rep).unwrap_or_else(|| {
        Err(Error::Invalid(format!(
            "unknown representation `{rep}` of {g} (expected points:P, sphere:L, wigner:l or \
             tensor:a,b{})",
            if g.order().is_some() {
                ", or regular"
            } else {
                ""
            }
        )))
    })
}

/// The self-checks of `eqntk group check G`: the group's name and each check.
pub(super) fn checks(g: Rotation3Group) -> Result<(String, Vec<Check>)> {
    match finite(g) {
        Some(kind) => {
            let gi = GroupWithIrreps::from_polyhedral(kind)?;
            let group = Polyhedral::new(kind)?;
            check_table_budget(&format!("the irreps of {g}"), group.order())?;
            let mut out = finite_checks(&gi)?;
            out.extend(polyhedral_checks(&group, &gi)?);
            Ok((g.to_string(), out))
        }
        None => Ok((g.to_string(), continuous_checks(g == Rotation3Group::O3)?)),
    }
}

fn check(name: impl Into<String>, error: f64, tol: f64) -> Check {
    Check {
        name: name.into(),
        error,
        tol,
    }
}

fn max_diff(a: &faer::Mat<f64>, b: &faer::Mat<f64>) -> f64 {
    let mut m: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    m
}

fn polyhedral_checks(group: &Polyhedral, gi: &GroupWithIrreps) -> Result<Vec<Check>> {
    let mut out = Vec::new();
    let orth = group
        .matrices()
        .iter()
        .map(|m| m.transpose().mul(m).max_abs_diff(&Matrix3::IDENTITY))
        .fold(0.0, f64::max);
    out.push(check("elements: MᵀM = I", orth, 1e-14));
    let table = (0..group.order())
        .flat_map(|a| (0..group.order()).map(move |b| (a, b)))
        .map(|(a, b)| {
            group
                .matrix(group.mul(a, b))
                .max_abs_diff(&group.matrix(a).mul(group.matrix(b)))
        })
        .fold(0.0, f64::max);
    out.push(check("multiplication table = matrix product", table, 1e-14));
    let mut hom: f64 = 0.0;
    let mut rebuild: f64 = 0.0;
    for l in 0..=6 {
        let rep = polyhedral_rep(group, So3RepSpec::Wigner(l))?;
        hom = hom.max(rep.homomorphism_error(group)?);
        let m = multiplicities(group, &rep, &gi.irreps)?;
        for g in 0..group.order() {
            let chi: C64 = gi
                .irreps
                .iter()
                .zip(&m)
                .map(|(ir, &k)| ir.character(g) * k as f64)
                .sum();
            rebuild = rebuild.max((chi - rep.character(g)?).norm());
        }
    }
    out.push(check(
        "D^l(a)D^l(b) = D^l(ab), l ≤ 6 (exhaustive)",
        hom,
        TOL,
    ));
    out.push(check(
        "restriction of D^l, l ≤ 6: Σ m_ψ χ_ψ = χ_l",
        rebuild,
        TOL,
    ));
    let points = polyhedral_rep(group, So3RepSpec::Points(2))?;
    let dec = decompose(group, &points, &gi.irreps)?;
    let (err, q) = dec.rebuild_error(&points)?;
    out.push(check("points:2 = Q (⊕ψ) Qᴴ", err.max(q), TOL));
    Ok(out)
}

fn continuous_checks(o3: bool) -> Result<Vec<Check>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    let elems: Vec<Matrix3> = (0..12)
        .map(|_| {
            if o3 {
                O3.random(&mut rng)
            } else {
                So3.random(&mut rng)
            }
        })
        .collect();
    let mut out = Vec::new();
    let mut ax: f64 = 0.0;
    for a in &elems {
        ax = ax.max(a.mul(&a.transpose()).max_abs_diff(&Matrix3::IDENTITY));
        for b in &elems[..6] {
            for c in &elems[..6] {
                ax = ax.max(a.mul(b).mul(c).max_abs_diff(&a.mul(&b.mul(c))));
            }
        }
    }
    out.push(check("group axioms (sampled elements)", ax, 1e-12));
    let (mut hom, mut orth, mut trace): (f64, f64, f64) = (0.0, 0.0, 0.0);
    let parities: &[Option<i8>] = if o3 { &[Some(1), Some(-1)] } else { &[None] };
    for w in elems.windows(2) {
        for &parity in parities {
            for l in 0..=6 {
                let ir = So3Irrep { degree: l, parity };
                let (da, db) = (ir.matrix(&w[0])?, ir.matrix(&w[1])?);
                let dab = ir.matrix(&w[0].mul(&w[1]))?;
                hom = hom.max(max_diff(&(&da * &db), &dab));
                let n = ir.dim();
                orth = orth.max(max_diff(
                    &(da.transpose() * &da),
                    &faer::Mat::identity(n, n),
                ));
                let tr: f64 = (0..n).map(|i| da[(i, i)]).sum();
                trace = trace.max((tr - ir.character(&w[0])).abs());
            }
        }
    }
    out.push(check("D^l(a)D^l(b) = D^l(ab), l ≤ 6 (sampled)", hom, 1e-12));
    out.push(check("D^l(R)ᵀD^l(R) = I, l ≤ 6 (sampled)", orth, 1e-12));
    out.push(check("tr D^l = χ_l (sampled)", trace, 1e-12));
    let q = So3Quadrature::new(2 * TABLE_DEGREE)?;
    let ds: Vec<Vec<faer::Mat<f64>>> = q
        .rotations()
        .iter()
        .map(|r| wigner_d_all(TABLE_DEGREE, r))
        .collect::<Result<_>>()?;
    let mut char_orth: f64 = 0.0;
    for a in 0..=TABLE_DEGREE {
        for b in 0..=TABLE_DEGREE {
            let v = q.integrate(|r| {
                so3_character(a, r.rotation_cosine()) * so3_character(b, r.rotation_cosine())
            });
            char_orth = char_orth.max((v - f64::from(u8::from(a == b))).abs());
        }
    }
    out.push(check(
        format!(
            "characters: ∫χ_aχ_b dR = δ_ab, a, b ≤ {TABLE_DEGREE} (Haar quadrature of degree {})",
            q.degree()
        ),
        char_orth,
        1e-12,
    ));
    let mut schur: f64 = 0.0;
    for a in 0..=3 {
        let n = 2 * a + 1;
        for i in 0..n {
            for j in 0..n {
                let v: f64 = ds
                    .iter()
                    .zip(q.weights())
                    .map(|(d, w)| w * d[a][(i, j)] * d[a][(i, j)])
                    .sum();
                schur = schur.max((v - 1.0 / n as f64).abs());
            }
        }
    }
    out.push(check("∫ (D^l_ij)² dR = 1/(2l+1), l ≤ 3", schur, 1e-12));
    let mut cg: f64 = 0.0;
    for a in 0..=4 {
        for b in 0..=4 {
            let m = tensor_product_multiplicities(a, b)?;
            let want = (0..=a + b).map(|l| usize::from(l >= a.abs_diff(b)));
            cg = cg.max(flag(m.iter().copied().eq(want)));
        }
    }
    out.push(check("D^a ⊗ D^b = ⊕_{|a−b|}^{a+b} D^l, a, b ≤ 4", cg, TOL));
    let spec = So3RepSpec::Sphere(4);
    let m = so3_multiplicities(|r| spec.character(r), spec.dim(), 4, o3)?;
    let ok = m.iter().all(|(ir, k)| {
        let natural = ir
            .parity
            .is_none_or(|p| p == if ir.degree % 2 == 0 { 1 } else { -1 });
        *k == usize::from(natural)
    });
    out.push(check(
        "sphere:4 = ⊕_{l≤4} D^l (parity (−1)^l)",
        flag(ok),
        TOL,
    ));
    Ok(out)
}
