//! Decompositions into irreps: known multiplicities, exact rebuilds, isotypic projectors,
//! SO(2) restrictions, and Gram-matrix spectra per irrep.

use eqntk::action::{ImageAction, SignalAction, SiteAction, TorusAction};
use eqntk::group::{Cyclic, Dihedral, FiniteGroup, PointGroup, RotoTranslation, So2};
use eqntk::rep::{
    cyclic_irreps, decompose, decompose_real_cyclic, isotypic_projector, isotypic_spectrum,
    multiplicities, so2, Irrep, Irreps, Rep,
};
use faer::{Mat, Side};
use num_complex::Complex64 as C64;
use rand::{Rng, SeedableRng};

fn mults(g: &dyn FiniteGroup, r: &Rep, irreps: &[Irrep]) -> Vec<(String, usize)> {
    let m = multiplicities(g, r, irreps).unwrap();
    irreps.iter().map(|i| i.name.clone()).zip(m).collect()
}

fn assert_rebuilds(g: &dyn FiniteGroup, r: &Rep, irreps: &[Irrep], real: bool) {
    let dec = decompose(g, r, irreps).unwrap();
    let (err, orth) = dec.rebuild_error(r).unwrap();
    assert!(
        err < 1e-10 && orth < 1e-10,
        "{} on {}: {err} {orth}",
        r.name(),
        g.name()
    );
    if real {
        assert!(dec.imaginary_part() < 1e-12, "{}: Q not real", g.name());
    }
}

#[test]
fn d4_on_the_pixels_of_a_3x3_image() {
    let act = ImageAction::new(PointGroup::D4, 3).unwrap();
    let d4 = Dihedral::new(4).unwrap();
    let ir = d4.irreps().unwrap();
    let r = act.representation();
    // Orbits: centre (fixed), 4 corners, 4 edges; each 4-orbit is D4/⟨a reflection⟩ = A1 + one
    // B + E1, and corners and edges are fixed by reflections of different classes.
    let want = [("A1", 3), ("A2", 0), ("B1", 1), ("B2", 1), ("E1", 2)];
    let got = mults(&d4, &r, &ir);
    for ((n, m), (wn, wm)) in got.iter().zip(want) {
        assert_eq!((n.as_str(), *m), (wn, wm));
    }
    assert_rebuilds(&d4, &r, &ir, true);
    // C4 on the same pixels: 3 chi_0 and 2 of each other chi_k.
    let act = ImageAction::new(PointGroup::C4, 3).unwrap();
    let c4 = Cyclic::new(4).unwrap();
    let m = multiplicities(&c4, &act.representation(), &c4.irreps().unwrap()).unwrap();
    assert_eq!(m, vec![3, 2, 2, 2]);
}

#[test]
fn cyclic_and_dihedral_on_signals() {
    for n in 1..=12usize {
        // C_n on n samples is the regular representation: every chi_k once.
        let c = Cyclic::new(n).unwrap();
        let r = SignalAction::cyclic(n, n).unwrap().representation();
        let ir = c.irreps().unwrap();
        assert_eq!(multiplicities(&c, &r, &ir).unwrap(), vec![1; n]);
        assert_rebuilds(&c, &r, &ir, false);
        // Real forms: trivial, sign (even n), rot_k once each, with a real orthogonal Q.
        let dec = decompose_real_cyclic(&c, &r).unwrap();
        assert!(dec.multiplicities.iter().all(|&m| m == 1));
        let (err, orth) = dec.rebuild_error(&r).unwrap();
        assert!(err < 1e-10 && orth < 1e-10 && dec.imaginary_part() == 0.0);
        // D_n on n samples is induced from the trivial rep of ⟨s⟩ (s fixes sample 0), so by
        // Frobenius reciprocity it holds each irrep as often as ψ(s) has the eigenvalue +1:
        // A1 once, B1 once (n even; B1(s) = +1), each E_k once, A2 and B2 never.
        let d = Dihedral::new(n).unwrap();
        let r = SignalAction::dihedral(n, n).unwrap().representation();
        let ir = d.irreps().unwrap();
        for (name, m) in mults(&d, &r, &ir) {
            let want = usize::from(!(name == "A2" || name == "B2"));
            assert_eq!(m, want, "D{n} {name}");
        }
        assert_rebuilds(&d, &r, &ir, true);
    }
    // C3 acting on 12 samples (shift by 4): the 4 orbits make 4 copies of the regular rep.
    let c3 = Cyclic::new(3).unwrap();
    let r = SignalAction::cyclic(3, 12).unwrap().representation();
    assert_eq!(
        multiplicities(&c3, &r, &cyclic_irreps(&c3)).unwrap(),
        vec![4, 4, 4]
    );
}

#[test]
fn torus_actions_decompose_and_rebuild() {
    for g in [
        RotoTranslation::p4(3).unwrap(),
        RotoTranslation::p4m(3).unwrap(),
    ] {
        let ir = g.irreps().unwrap();
        let act = TorusAction::new(g.point_group(), 3).unwrap();
        let r = act.representation();
        let m = multiplicities(&g, &r, &ir).unwrap();
        // The translations act regularly on the 9 sites: each momentum appears once, so only
        // irreps whose restriction to translations is multiplicity-free can appear, and the
        // dimensions add up to 9.
        let total: usize = m.iter().zip(&ir).map(|(m, i)| m * i.dim()).sum();
        assert_eq!(total, 9);
        assert_eq!(m[0], 1, "constant images: trivial once");
        assert_rebuilds(&g, &r, &ir, false);
        // Isotypic projectors: Hermitian, idempotent, mutually orthogonal, sum to I, trace m·d.
        let mut sum = Mat::<C64>::zeros(9, 9);
        for (irr, &mm) in ir.iter().zip(&m) {
            let p = isotypic_projector(&g, &r, irr);
            let p2 = &p * &p;
            for i in 0..9 {
                for j in 0..9 {
                    assert!((p2[(i, j)] - p[(i, j)]).norm() < 1e-12);
                    assert!((p[(i, j)] - p[(j, i)].conj()).norm() < 1e-12);
                }
            }
            let tr: C64 = (0..9).map(|i| p[(i, i)]).sum();
            assert!((tr.re - (mm * irr.dim()) as f64).abs() < 1e-10);
            sum += &p;
        }
        for i in 0..9 {
            for j in 0..9 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((sum[(i, j)] - want).norm() < 1e-12);
            }
        }
    }
}

#[test]
fn so2_irreps_restrict_to_cyclic_by_frequency_mod_n() {
    for n in 1..=9usize {
        let c = Cyclic::new(n).unwrap();
        let ir = cyclic_irreps(&c);
        for k in -7i64..=7 {
            let r = so2::So2Irrep::complex(k).restrict(&c);
            let m = multiplicities(&c, &r, &ir).unwrap();
            let want = k.rem_euclid(n as i64) as usize;
            assert_eq!(m[want], 1, "chi_{k} ↓ C{n}");
            assert_eq!(m.iter().sum::<usize>(), 1);
            if k > 0 {
                // rot_k ↓ C_n = chi_(k mod n) ⊕ chi_(−k mod n)
                let r = so2::So2Irrep::real(k).unwrap().restrict(&c);
                let m = multiplicities(&c, &r, &ir).unwrap();
                let neg = (-k).rem_euclid(n as i64) as usize;
                let mut want = vec![0; n];
                want[k as usize % n] += 1;
                want[neg] += 1;
                assert_eq!(m, want, "rot_{k} ↓ C{n}");
            }
        }
    }
}

#[test]
fn so2_on_odd_signals_holds_each_mode_once() {
    let so2g = So2::new(4);
    let n = 7;
    let chi = |t: f64| {
        let m = eqntk::action::so2::signal_rotation_matrix(n, t).unwrap();
        C64::new((0..n).map(|i| m[(i, i)]).sum(), 0.0)
    };
    let m = so2::multiplicities(&so2g, chi, n, 3).unwrap();
    for (ir, k) in m {
        assert_eq!(k, usize::from(ir.frequency.abs() <= 3), "{}", ir.name());
    }
    // A band limit below the signal's frequencies is refused.
    assert!(so2::multiplicities(&So2::new(2), chi, n, 3).is_err());
}

/// Spectrum of a G-invariant Gram matrix per irrep equals a direct eigendecomposition.
fn check_spectrum(g: &dyn FiniteGroup, r: &Rep, ir: &[Irrep], k: &Mat<f64>) {
    let spec = isotypic_spectrum(g, r, ir, k).unwrap();
    let mut ours: Vec<f64> = spec
        .iter()
        .flat_map(|s| {
            s.eigenvalues
                .iter()
                .flat_map(move |&e| std::iter::repeat_n(e, s.dim))
        })
        .collect();
    ours.sort_by(f64::total_cmp);
    let direct = k.self_adjoint_eigenvalues(Side::Lower).unwrap();
    assert_eq!(ours.len(), direct.len());
    let scale = direct.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (a, b) in ours.iter().zip(&direct) {
        assert!((a - b).abs() < 1e-10 * scale, "{a} vs {b}");
    }
}

#[test]
fn gram_matrix_spectrum_per_irrep() {
    // An RBF kernel between pixel positions is invariant under rotations about the centre.
    let h = 4;
    let act = ImageAction::new(PointGroup::D4, h).unwrap();
    let pos = |s: usize| ((s / h) as f64, (s % h) as f64);
    let k = Mat::from_fn(h * h, h * h, |a, b| {
        let (p, q) = (pos(a), pos(b));
        (-((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)) / 3.0).exp()
    });
    let d4 = Dihedral::new(4).unwrap();
    check_spectrum(&d4, &act.representation(), &d4.irreps().unwrap(), &k);

    // A fully augmented training set: orbits of 2 random signals under C6, an RBF Gram matrix.
    let n = 6;
    let act = SignalAction::cyclic(n, n).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let xs: Vec<Vec<f64>> = (0..2)
        .map(|_| (0..n).map(|_| rng.random::<f64>()).collect())
        .collect();
    let data: Vec<Vec<f64>> = xs
        .iter()
        .flat_map(|x| act.orbit(x, &[n, 1]).unwrap())
        .collect();
    let m = data.len();
    let k = Mat::from_fn(m, m, |a, b| {
        let d: f64 = data[a]
            .iter()
            .zip(&data[b])
            .map(|(u, v)| (u - v).powi(2))
            .sum();
        (-d).exp()
    });
    // G permutes the training points: g·(h x_i) = (gh) x_i, index i·|G| + h.
    let c = Cyclic::new(n).unwrap();
    let perms = c
        .elements()
        .map(|g| (0..m).map(|p| (p / n) * n + c.mul(g, p % n)).collect())
        .collect();
    let r = Rep::from_permutations("augmented", perms).unwrap();
    check_spectrum(&c, &r, &c.irreps().unwrap(), &k);
    // A matrix that is not invariant is refused.
    let mut bad = k.clone();
    bad[(0, 1)] += 0.1;
    bad[(1, 0)] += 0.1;
    assert!(isotypic_spectrum(&c, &r, &c.irreps().unwrap(), &bad).is_err());
}
