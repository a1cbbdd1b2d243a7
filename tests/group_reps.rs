//! Representations: homomorphism, unitarity, characters, products, restriction, Fourier.

use std::f64::consts::PI;

use eqntk::group::{Cyclic, Dihedral, FiniteGroup, RotoTranslation};
use eqntk::rep::{
    cyclic_irreps, cyclic_real_irreps, dihedral_irreps, fourier, multiplicities, numerical_irreps,
    CharacterTable, Irrep, Irreps, Rep,
};
use faer::Mat;
use num_complex::Complex64 as C64;
use rand::{Rng, SeedableRng};

fn max_diff(a: &Mat<C64>, b: &Mat<C64>) -> f64 {
    let mut m: f64 = 0.0;
    for i in 0..a.nrows() {
        for j in 0..a.ncols() {
            m = m.max((a[(i, j)] - b[(i, j)]).norm());
        }
    }
    m
}

fn adj(a: &Mat<C64>) -> Mat<C64> {
    Mat::from_fn(a.ncols(), a.nrows(), |i, j| a[(j, i)].conj())
}

/// Homomorphism, unitarity and ρ(a⁻¹) = ρ(a)⁻¹, checked matrix by matrix.
fn assert_unitary_rep(g: &dyn FiniteGroup, r: &Rep) {
    let d = r.dim();
    let id = Mat::<C64>::identity(d, d);
    for a in g.elements() {
        let ma = r.matrix(a).unwrap();
        assert!(
            max_diff(&(&adj(&ma) * &ma), &id) < 1e-12,
            "{} unitary",
            r.name()
        );
        let mi = r.matrix(g.inv(a)).unwrap();
        assert!(max_diff(&(&ma * &mi), &id) < 1e-12, "{} inverse", r.name());
        for b in g.elements() {
            let ab = r.matrix(g.mul(a, b)).unwrap();
            let err = max_diff(&(&ma * r.matrix(b).unwrap()), &ab);
            assert!(err < 1e-12, "{} on {}: {err}", r.name(), g.name());
        }
    }
}

fn groups_with_irreps() -> Vec<(Box<dyn FiniteGroup>, Vec<Irrep>)> {
    let mut v: Vec<(Box<dyn FiniteGroup>, Vec<Irrep>)> = Vec::new();
    for n in 1..=12 {
        let c = Cyclic::new(n).unwrap();
        v.push((Box::new(c), c.irreps().unwrap()));
        let d = Dihedral::new(n).unwrap();
        v.push((Box::new(d), d.irreps().unwrap()));
    }
    let p4 = RotoTranslation::p4(3).unwrap();
    v.push((Box::new(p4), p4.irreps().unwrap()));
    let p4m = RotoTranslation::p4m(3).unwrap();
    v.push((Box::new(p4m), p4m.irreps().unwrap()));
    v
}

#[test]
fn irreps_regular_and_permutation_reps_are_unitary_homomorphisms() {
    for (g, irreps) in groups_with_irreps() {
        for ir in &irreps {
            assert_unitary_rep(g.as_ref(), &ir.rep);
        }
        if g.order() <= 24 {
            assert_unitary_rep(g.as_ref(), &Rep::regular(g.as_ref()));
        }
    }
    for n in 1..=8 {
        let c = Cyclic::new(n).unwrap();
        for ir in cyclic_real_irreps(&c) {
            assert_unitary_rep(&c, &ir.rep);
            assert!(ir.rep.is_real(0.0) || ir.rep.is_real(1e-15));
        }
    }
}

#[test]
fn character_orthogonality_and_counting() {
    for (g, irreps) in groups_with_irreps() {
        let t = CharacterTable::new(g.as_ref(), &irreps);
        assert!(t.row_orthogonality_error().unwrap() < 1e-10, "{}", g.name());
        assert!(
            t.column_orthogonality_error().unwrap() < 1e-10,
            "{}",
            g.name()
        );
        let sum_d2: usize = irreps.iter().map(|i| i.dim() * i.dim()).sum();
        assert_eq!(sum_d2, g.order(), "{}", g.name());
        assert_eq!(irreps.len(), g.conjugacy_classes().len(), "{}", g.name());
        // Brute-force row orthogonality over elements rather than classes.
        for a in &irreps {
            for b in &irreps {
                let s: C64 = g
                    .elements()
                    .map(|x| a.character(x) * b.character(x).conj())
                    .sum::<C64>()
                    / g.order() as f64;
                let want = if a.name == b.name { 1.0 } else { 0.0 };
                assert!(
                    (s - want).norm() < 1e-10,
                    "{} {} {}",
                    g.name(),
                    a.name,
                    b.name
                );
            }
        }
        // Trivial first.
        assert!(g
            .elements()
            .all(|x| (irreps[0].character(x) - 1.0).norm() < 1e-12));
    }
}

#[test]
fn regular_rep_contains_each_irrep_dim_times() {
    for (g, irreps) in groups_with_irreps() {
        let m = multiplicities(g.as_ref(), &Rep::regular(g.as_ref()), &irreps).unwrap();
        for (ir, k) in irreps.iter().zip(m) {
            assert_eq!(k, ir.dim(), "{} {}", g.name(), ir.name);
        }
    }
}

#[test]
fn cyclic_characters_are_roots_of_unity() {
    for n in 1..=12usize {
        let c = Cyclic::new(n).unwrap();
        for (k, ir) in cyclic_irreps(&c).iter().enumerate() {
            assert_eq!(ir.name, format!("chi_{k}"));
            for a in 0..n {
                let want = C64::from_polar(1.0, 2.0 * PI * (k * a) as f64 / n as f64);
                assert!((ir.character(a) - want).norm() < 1e-12);
            }
        }
    }
}

#[test]
fn dihedral_irreps_match_numerical_splitting_of_the_regular_rep() {
    // Independent algorithm: the numerically computed irreps of D_n have the same characters.
    for n in 1..=8usize {
        let d = Dihedral::new(n).unwrap();
        let closed = dihedral_irreps(&d);
        let numeric = numerical_irreps(&d).unwrap();
        assert_eq!(closed.len(), numeric.len());
        for ir in &closed {
            let hit = numeric.iter().any(|nu| {
                d.elements()
                    .all(|g| (nu.character(g) - ir.character(g)).norm() < 1e-9)
            });
            assert!(hit, "D{n} {}", ir.name);
        }
        let c = Cyclic::new(n).unwrap();
        let numeric = numerical_irreps(&c).unwrap();
        for ir in cyclic_irreps(&c) {
            assert!(numeric.iter().any(|nu| c
                .elements()
                .all(|g| (nu.character(g) - ir.character(g)).norm() < 1e-9)));
        }
    }
}

#[test]
fn d3_and_d4_tables_by_hand() {
    // D3 = S3: classes e (1), r (2), s (3).
    let d3 = Dihedral::new(3).unwrap();
    let t = CharacterTable::new(&d3, &d3.irreps().unwrap());
    let sizes: Vec<usize> = t.classes.iter().map(|c| c.size).collect();
    assert_eq!(sizes, vec![1, 2, 3]);
    let want = [[1.0, 1.0, 1.0], [1.0, 1.0, -1.0], [2.0, -1.0, 0.0]];
    for (row, w) in t.values.iter().zip(want) {
        for (v, w) in row.iter().zip(w) {
            assert!((v - w).norm() < 1e-12);
        }
    }
    // D4: classes e, r, r², s, rs; B1 is +1 on s.
    let d4 = Dihedral::new(4).unwrap();
    let t = CharacterTable::new(&d4, &d4.irreps().unwrap());
    let names: Vec<&str> = t.classes.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["e", "r", "r^2", "s", "rs"]);
    let want = [
        [1.0, 1.0, 1.0, 1.0, 1.0],
        [1.0, 1.0, 1.0, -1.0, -1.0],
        [1.0, -1.0, 1.0, 1.0, -1.0],
        [1.0, -1.0, 1.0, -1.0, 1.0],
        [2.0, 0.0, -2.0, 0.0, 0.0],
    ];
    for (row, w) in t.values.iter().zip(want) {
        for (v, w) in row.iter().zip(w) {
            assert!((v - w).norm() < 1e-12);
        }
    }
    // D5: E1 on r is 2cos(2π/5) = (√5 − 1)/2, E2 on r is −(√5 + 1)/2.
    let d5 = Dihedral::new(5).unwrap();
    let ir = d5.irreps().unwrap();
    let s5 = 5f64.sqrt();
    assert!((ir[2].character(1).re - (s5 - 1.0) / 2.0).abs() < 1e-12);
    assert!((ir[3].character(1).re + (s5 + 1.0) / 2.0).abs() < 1e-12);
}

#[test]
fn products_restriction_and_change_of_basis() {
    let d4 = Dihedral::new(4).unwrap();
    let ir = d4.irreps().unwrap();
    let e1 = &ir[4];
    // E1 ⊗ E1 = A1 ⊕ A2 ⊕ B1 ⊕ B2; characters multiply.
    let t = e1.rep.tensor(&e1.rep).unwrap();
    assert_unitary_rep(&d4, &t);
    for g in d4.elements() {
        assert!((t.character(g).unwrap() - e1.character(g) * e1.character(g)).norm() < 1e-12);
    }
    assert_eq!(multiplicities(&d4, &t, &ir).unwrap(), vec![1, 1, 1, 1, 0]);
    // Direct sum: characters add.
    let s = ir[1].rep.direct_sum(&e1.rep).unwrap();
    assert_unitary_rep(&d4, &s);
    assert_eq!(multiplicities(&d4, &s, &ir).unwrap(), vec![0, 1, 0, 0, 1]);
    // Permutation reps: sum and product stay permutations and agree with dense ones.
    let reg = Rep::regular(&d4);
    let rr = reg.tensor(&Rep::trivial(&d4, 2)).unwrap();
    assert!(rr.permutations().is_some());
    assert_eq!(multiplicities(&d4, &rr, &ir).unwrap(), vec![2, 2, 2, 2, 4]);
    // Restriction D4 → C4: E1 ↦ chi_1 ⊕ chi_3, B1 ↦ chi_2, A2 ↦ chi_0.
    let (c4, emb) = d4.rotation_subgroup();
    let cir = c4.irreps().unwrap();
    let m = |r: &Rep| multiplicities(&c4, &r.restrict(&emb).unwrap(), &cir).unwrap();
    assert_eq!(m(&e1.rep), vec![0, 1, 0, 1]);
    assert_eq!(m(&ir[2].rep), vec![0, 0, 1, 0]);
    assert_eq!(m(&ir[1].rep), vec![1, 0, 0, 0]);
    // C3 ⊂ C6: chi_k of C6 restricts to chi_(k mod 3).
    let c6 = Cyclic::new(6).unwrap();
    let c3 = Cyclic::new(3).unwrap();
    let emb = c6.subgroup_embedding(3).unwrap();
    for (k, ir) in cyclic_irreps(&c6).iter().enumerate() {
        let m = multiplicities(&c3, &ir.rep.restrict(&emb).unwrap(), &cyclic_irreps(&c3)).unwrap();
        assert_eq!(m[k % 3], 1);
        assert_eq!(m.iter().sum::<usize>(), 1);
    }
    // Change of basis by a random orthogonal matrix keeps characters and homomorphism.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let a = Mat::from_fn(5, 5, |_, _| rng.random::<f64>() - 0.5);
    let q = a.qr().compute_Q();
    let qc = Mat::from_fn(5, 5, |i, j| C64::new(q[(i, j)], 0.0));
    let big = ir[0]
        .rep
        .direct_sum(&ir[3].rep)
        .unwrap()
        .direct_sum(&e1.rep)
        .unwrap();
    let b = big
        .direct_sum(&ir[2].rep)
        .unwrap()
        .change_basis(&qc)
        .unwrap();
    assert_unitary_rep(&d4, &b);
    for g in d4.elements() {
        assert!(
            (b.character(g).unwrap() - big.character(g).unwrap() - ir[2].character(g)).norm()
                < 1e-12
        );
    }
    assert!(big.change_basis(&Mat::<C64>::identity(3, 3)).is_err());
    let not_unitary = Mat::from_fn(5, 5, |i, j| C64::new(if i == j { 2.0 } else { 0.0 }, 0.0));
    assert!(b.change_basis(&not_unitary).is_err());
}

#[test]
fn fourier_transform_is_unitary_inverts_and_turns_convolution_into_products() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    for (g, irreps) in groups_with_irreps() {
        let n = g.order();
        let f = fourier::fourier_matrix(g.as_ref(), &irreps).unwrap();
        assert!(
            max_diff(&(&f * adj(&f)), &Mat::identity(n, n)) < 1e-10,
            "{}",
            g.name()
        );
        let rand_fn = |rng: &mut rand_chacha::ChaCha8Rng| -> Vec<C64> {
            (0..n)
                .map(|_| C64::new(rng.random::<f64>() - 0.5, rng.random::<f64>() - 0.5))
                .collect()
        };
        let x = rand_fn(&mut rng);
        let y = rand_fn(&mut rng);
        let xh = fourier::fourier(g.as_ref(), &irreps, &x).unwrap();
        let back = fourier::inverse_fourier(g.as_ref(), &irreps, &xh).unwrap();
        assert!(x.iter().zip(&back).all(|(a, b)| (a - b).norm() < 1e-10));
        // Plancherel.
        let lhs: f64 = x.iter().map(|v| v.norm_sqr()).sum();
        let rhs: f64 = irreps
            .iter()
            .zip(&xh)
            .map(|(ir, m)| {
                let fro: f64 = (0..ir.dim())
                    .flat_map(|i| (0..ir.dim()).map(move |j| (i, j)))
                    .map(|(i, j)| m[(i, j)].norm_sqr())
                    .sum();
                ir.dim() as f64 * fro
            })
            .sum::<f64>()
            / n as f64;
        assert!((lhs - rhs).abs() < 1e-10 * lhs.max(1.0));
        if n <= 36 {
            // Convolution, by brute force: (x ∗ y)(z) = Σ_g x(g) y(g⁻¹ z).
            let conv: Vec<C64> = (0..n)
                .map(|z| (0..n).map(|a| x[a] * y[g.mul(g.inv(a), z)]).sum())
                .collect();
            let ch = fourier::fourier(g.as_ref(), &irreps, &conv).unwrap();
            let yh = fourier::fourier(g.as_ref(), &irreps, &y).unwrap();
            for ((c, a), b) in ch.iter().zip(&xh).zip(&yh) {
                assert!(max_diff(c, &(a * b)) < 1e-10);
            }
        }
    }
    // An incomplete irrep set is refused.
    let d4 = Dihedral::new(4).unwrap();
    let ir = d4.irreps().unwrap();
    assert!(fourier::fourier(&d4, &ir[..4], &[C64::new(0.0, 0.0); 8]).is_err());
}

#[test]
fn bad_representations_are_errors() {
    assert!(Rep::from_permutations("bad", vec![vec![0, 0]]).is_err());
    assert!(Rep::from_permutations("bad", vec![vec![0, 2]]).is_err());
    assert!(Rep::from_matrices("empty", vec![]).is_err());
    let m = vec![Mat::<C64>::identity(2, 2), Mat::<C64>::identity(3, 3)];
    assert!(Rep::from_matrices("ragged", m).is_err());
    let c = Cyclic::new(3).unwrap();
    let r = Rep::regular(&c);
    assert!(r.matrix(3).is_err());
    assert!(r.restrict(&[0, 5]).is_err());
    assert!(r
        .direct_sum(&Rep::regular(&Cyclic::new(4).unwrap()))
        .is_err());
    // The real forms are not absolutely irreducible: decomposing over them is refused.
    let c5 = Cyclic::new(5).unwrap();
    assert!(multiplicities(&c5, &Rep::regular(&c5), &cyclic_real_irreps(&c5)).is_err());
}

#[test]
fn roto_translation_irreps_are_named_by_momentum_and_point_group_irrep() {
    for (g, point) in [
        (
            RotoTranslation::p4m(3).unwrap(),
            dihedral_irreps(&Dihedral::new(4).unwrap()),
        ),
        (
            RotoTranslation::p4(2).unwrap(),
            cyclic_irreps(&Cyclic::new(4).unwrap()),
        ),
    ] {
        let ir = g.irreps().unwrap();
        let emb = g.point_embedding();
        // The momentum-(0,0) irreps are the point group's irreps, in its order, lifted.
        for (k, p) in point.iter().enumerate() {
            assert_eq!(ir[k].name, format!("k(0,0):{}", p.name));
            for (q, &e) in emb.iter().enumerate() {
                assert!((ir[k].character(e) - p.character(q)).norm() < 1e-9);
            }
            for t in g.translation_embedding() {
                assert!((ir[k].character(t) - p.dim() as f64).norm() < 1e-9);
            }
        }
        let mut names: Vec<&str> = ir.iter().map(|i| i.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ir.len(), "names are unique");
    }
    // p4m on the 3×3 torus: 5 irreps at k = 0, two 4-D irreps on each of the two 4-orbits.
    let dims: Vec<usize> = RotoTranslation::p4m(3)
        .unwrap()
        .irreps()
        .unwrap()
        .iter()
        .map(|i| i.dim())
        .collect();
    assert_eq!(dims, [1, 1, 1, 1, 2, 4, 4, 4, 4]);
}
