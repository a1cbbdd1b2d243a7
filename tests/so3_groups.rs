//! SO(3), O(3) and the polyhedral groups O, Oh, I: group axioms, the real Wigner matrices D^l,
//! characters, the Haar quadrature, Gauss–Legendre, character tables, restrictions,
//! decompositions and tensor products, and the `group` CLI on them.

use std::f64::consts::PI;

use eqntk::group::{
    gauss_legendre, FiniteGroup, GroupName, GroupSpec, Matrix3, Polyhedral, PolyhedralKind, So3,
    So3Quadrature,
};
use eqntk::rep::{
    character_multiplicities, polyhedral_character_table, polyhedral_irreps, polyhedral_rep,
    restriction_multiplicities, so3_multiplicities, tensor_product_multiplicities, So3Irrep,
    So3RepSpec,
};
use eqntk::rep::{
    decompose, real_spherical_harmonics, so3_character, so3_character_of_angle, wigner_d,
    wigner_d_all,
};
use faer::Mat;
use rand::SeedableRng;

use crate::common::cli::{eqntk, fails};

fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

fn random_rotations(n: usize, seed: u64) -> Vec<Matrix3> {
    let mut r = rng(seed);
    (0..n).map(|_| So3.random(&mut r)).collect()
}

fn max_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
    let mut m: f64 = 0.0;
    for j in 0..a.ncols() {
        for i in 0..a.nrows() {
            m = m.max((a[(i, j)] - b[(i, j)]).abs());
        }
    }
    m
}

fn groups() -> Vec<Polyhedral> {
    vec![
        Polyhedral::octahedral(),
        Polyhedral::full_octahedral(),
        Polyhedral::icosahedral(),
    ]
}

// ---------------------------------------------------------------- groups

#[test]
fn polyhedral_groups_are_closed_orthogonal_and_satisfy_the_axioms() {
    for (g, order, improper) in groups()
        .into_iter()
        .zip([24, 48, 60])
        .zip([0, 24, 0])
        .map(|((g, o), i)| (g, o, i))
    {
        assert_eq!(g.order(), order, "{}", g.name());
        g.check_axioms().unwrap();
        assert_eq!(g.matrix(0).max_abs_diff(&Matrix3::IDENTITY), 0.0);
        let mut n_improper = 0;
        for a in 0..g.order() {
            let m = g.matrix(a);
            assert!(m.is_orthogonal(1e-15), "{} element {a}", g.name());
            assert!((m.det().abs() - 1.0).abs() < 1e-15);
            n_improper += usize::from(m.det() < 0.0);
            assert_eq!(g.find(m, 1e-12), Some(a));
            assert!(g.matrix(g.inv(a)).max_abs_diff(&m.transpose()) < 1e-15);
            for b in 0..g.order() {
                // The table is the matrix product.
                let p = m.mul(g.matrix(b));
                assert!(g.matrix(g.mul(a, b)).max_abs_diff(&p) < 1e-15);
            }
        }
        assert_eq!(n_improper, improper, "{}", g.name());
        // No two elements coincide.
        for a in 0..g.order() {
            for b in 0..a {
                assert!(g.matrix(a).max_abs_diff(g.matrix(b)) > 0.1);
            }
        }
    }
    // I is the rotation group of the icosahedron with vertices (0, ±1, ±φ) and cyclic shifts.
    let i = Polyhedral::icosahedral();
    let p = (1.0 + 5f64.sqrt()) / 2.0;
    let mut verts = Vec::new();
    for s1 in [-1.0, 1.0] {
        for s2 in [-1.0, 1.0] {
            let v = [0.0, s1, s2 * p];
            verts.push(v);
            verts.push([v[2], v[0], v[1]]);
            verts.push([v[1], v[2], v[0]]);
        }
    }
    for m in i.matrices() {
        for v in &verts {
            let w = m.apply(*v);
            assert!(verts
                .iter()
                .any(|u| (0..3).all(|k| (u[k] - w[k]).abs() < 1e-12)));
        }
    }
}

#[test]
fn conjugacy_classes_have_the_known_counts_and_sizes() {
    let want: [(&str, Vec<usize>); 3] = [
        ("O", vec![1, 3, 6, 6, 8]),
        ("Oh", vec![1, 1, 3, 3, 6, 6, 6, 6, 8, 8]),
        ("I", vec![1, 12, 12, 15, 20]),
    ];
    for (g, (name, sizes)) in groups().iter().zip(want) {
        assert_eq!(g.name(), name);
        let mut got: Vec<usize> = g.conjugacy_classes().iter().map(|c| c.size()).collect();
        got.sort_unstable();
        assert_eq!(got, sizes, "{name}");
        // Labels are class functions, and distinct classes have distinct labels.
        let classes = g.conjugacy_classes();
        let mut labels: Vec<&str> = classes
            .iter()
            .map(|c| {
                let l = g.class_label(c.representative).0;
                assert!(c.elements.iter().all(|&x| g.class_label(x).0 == l));
                l
            })
            .collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), classes.len(), "{name}: {labels:?}");
    }
}

#[test]
fn euler_angles_round_trip_and_compose_as_documented() {
    for r in random_rotations(50, 1) {
        let (a, b, c) = r.to_euler_zyz();
        assert!(Matrix3::from_euler_zyz(a, b, c).max_abs_diff(&r) < 1e-12);
        assert!(r.is_rotation(1e-14));
    }
    // Poles: β = 0 and β = π.
    for (a, b, c) in [(0.3, 0.0, 0.4), (1.0, PI, 0.2)] {
        let r = Matrix3::from_euler_zyz(a, b, c);
        let (x, y, z) = r.to_euler_zyz();
        assert!(Matrix3::from_euler_zyz(x, y, z).max_abs_diff(&r) < 1e-12);
    }
    // R_z(π/2) maps x to y (counter-clockwise).
    let v = Matrix3::rotation_z(PI / 2.0).apply([1.0, 0.0, 0.0]);
    assert!((v[0]).abs() < 1e-15 && (v[1] - 1.0).abs() < 1e-15);
    // Rodrigues agrees with the axis rotations.
    let r = Matrix3::from_axis_angle([0.0, 1.0, 0.0], 0.7);
    assert!(r.max_abs_diff(&Matrix3::rotation_y(0.7)) < 1e-15);
    assert!((r.rotation_angle() - 0.7).abs() < 1e-12);
}

// ---------------------------------------------------------------- Wigner D

#[test]
fn wigner_d_is_an_orthogonal_homomorphism_on_random_rotations() {
    let rs = random_rotations(12, 2);
    let mut worst: f64 = 0.0;
    for w in rs.windows(2) {
        let (a, b) = (w[0], w[1]);
        let da = wigner_d_all(6, &a).unwrap();
        let db = wigner_d_all(6, &b).unwrap();
        let dab = wigner_d_all(6, &a.mul(&b)).unwrap();
        let dinv = wigner_d_all(6, &a.transpose()).unwrap();
        for l in 0..=6 {
            let n = 2 * l + 1;
            let id = Mat::<f64>::identity(n, n);
            worst = worst.max(max_diff(&(&da[l] * &db[l]), &dab[l]));
            worst = worst.max(max_diff(&(da[l].transpose() * &da[l]), &id));
            worst = worst.max(max_diff(&dinv[l], &da[l].transpose().to_owned()));
        }
    }
    assert!(worst < 1e-12, "worst {worst:.2e}");
    // Stable at high degree.
    let (a, b) = (rs[0], rs[1]);
    let l = 40;
    let err = max_diff(
        &(wigner_d(l, &a).unwrap() * wigner_d(l, &b).unwrap()),
        &wigner_d(l, &a.mul(&b)).unwrap(),
    );
    assert!(err < 1e-11, "l = 40: {err:.2e}");
    // D(I) = I.
    assert_eq!(
        max_diff(
            &wigner_d(5, &Matrix3::IDENTITY).unwrap(),
            &Mat::identity(11, 11)
        ),
        0.0
    );
}

#[test]
fn d1_is_the_rotation_in_the_y_z_x_basis() {
    let p = [1usize, 2, 0];
    for r in random_rotations(10, 3) {
        let d = wigner_d(1, &r).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                assert!((d[(i, j)] - r.get(p[i], p[j])).abs() < 1e-15);
            }
        }
    }
}

/// `D^l(R)_{mm'} = ∫ Y_lm(Rx) Y_lm'(x) dΩ`, by Gauss–Legendre (cos θ) × trapezoid (φ),
/// exact for the degree-2l integrand: an independent route to D^l from the spherical harmonics.
fn wigner_by_projection(l: usize, r: &Matrix3) -> Mat<f64> {
    let (x, w) = gauss_legendre(l + 1).unwrap();
    let nphi = 2 * l + 1;
    let n = 2 * l + 1;
    let off = l * l;
    let mut d = Mat::<f64>::zeros(n, n);
    for (xi, wi) in x.iter().zip(&w) {
        let st = (1.0 - xi * xi).sqrt();
        for k in 0..nphi {
            let phi = 2.0 * PI * k as f64 / nphi as f64;
            let v = [st * phi.cos(), st * phi.sin(), *xi];
            let y = real_spherical_harmonics(l, v);
            let yr = real_spherical_harmonics(l, r.apply(v));
            let weight = wi * 2.0 * PI / nphi as f64;
            for a in 0..n {
                for b in 0..n {
                    d[(a, b)] += weight * yr[off + a] * y[off + b];
                }
            }
        }
    }
    d
}

#[test]
fn wigner_d_matches_the_projection_of_rotated_spherical_harmonics() {
    let mut worst: f64 = 0.0;
    for r in random_rotations(4, 4) {
        for l in 0..=5 {
            worst = worst.max(max_diff(
                &wigner_d(l, &r).unwrap(),
                &wigner_by_projection(l, &r),
            ));
        }
    }
    assert!(worst < 1e-12, "worst {worst:.2e}");
}

#[test]
fn spherical_harmonics_are_orthonormal_and_y1_is_y_z_x() {
    let lmax = 6;
    let (x, w) = gauss_legendre(lmax + 1).unwrap();
    let nphi = 2 * lmax + 1;
    let n = (lmax + 1) * (lmax + 1);
    let mut gram = Mat::<f64>::zeros(n, n);
    for (xi, wi) in x.iter().zip(&w) {
        let st = (1.0 - xi * xi).sqrt();
        for k in 0..nphi {
            let phi = 2.0 * PI * k as f64 / nphi as f64;
            let y = real_spherical_harmonics(lmax, [st * phi.cos(), st * phi.sin(), *xi]);
            for a in 0..n {
                for b in 0..n {
                    gram[(a, b)] += wi * 2.0 * PI / nphi as f64 * y[a] * y[b];
                }
            }
        }
    }
    assert!(max_diff(&gram, &Mat::identity(n, n)) < 1e-13);
    let c = (3.0 / (4.0 * PI)).sqrt();
    let v = [0.36, -0.48, 0.8];
    let y = real_spherical_harmonics(1, v);
    for (got, want) in y[1..].iter().zip([v[1], v[2], v[0]]) {
        assert!((got - c * want).abs() < 1e-15);
    }
    // Y_20 = √(5/16π) (3z² − 1), a closed form.
    let y = real_spherical_harmonics(2, v);
    assert!((y[6] - (5.0 / (16.0 * PI)).sqrt() * (3.0 * 0.64 - 1.0)).abs() < 1e-15);
}

#[test]
fn characters_are_traces_and_match_the_sine_ratio() {
    for r in random_rotations(10, 5) {
        let omega = r.rotation_angle();
        let ds = wigner_d_all(8, &r).unwrap();
        for (l, d) in ds.iter().enumerate() {
            let tr: f64 = (0..d.nrows()).map(|i| d[(i, i)]).sum();
            let ratio = ((2 * l + 1) as f64 * omega / 2.0).sin() / (omega / 2.0).sin();
            assert!((tr - so3_character(l, r.rotation_cosine())).abs() < 1e-12);
            assert!((tr - ratio).abs() < 1e-11, "l {l}: {tr} vs {ratio}");
            assert!((so3_character_of_angle(l, omega) - ratio).abs() < 1e-12);
        }
    }
    assert_eq!(so3_character(7, 1.0), 15.0);
    assert!((so3_character_of_angle(7, 0.0) - 15.0).abs() < 1e-12);
}

// ---------------------------------------------------------------- quadrature

#[test]
fn gauss_legendre_is_exact_to_degree_2n_minus_1_and_no_further() {
    for n in 1..=20 {
        let (x, w) = gauss_legendre(n).unwrap();
        assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-14);
        assert!(x.windows(2).all(|p| p[0] < p[1]));
        for k in 0..=2 * n {
            let q: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(k as i32)).sum();
            let exact = if k % 2 == 0 {
                2.0 / (k + 1) as f64
            } else {
                0.0
            };
            if k < 2 * n {
                assert!((q - exact).abs() < 1e-14, "n {n} k {k}: {q} vs {exact}");
            } else {
                // x^{2n} is not integrated exactly: the error is the closed form
                // 2^{2n+1} (n!)⁴ / ((2n + 1) ((2n)!)²) of the Gauss–Legendre remainder.
                let fact = |k: usize| (1..=k).map(|i| i as f64).product::<f64>();
                let remainder = 2f64.powi(2 * n as i32 + 1) * fact(n).powi(4)
                    / ((2 * n + 1) as f64 * fact(2 * n).powi(2));
                assert!(
                    (exact - q - remainder).abs() < 1e-14,
                    "n {n}: {} vs {remainder}",
                    exact - q
                );
                assert!(remainder > 1e-12);
            }
        }
    }
    let (x, w) = gauss_legendre(3).unwrap();
    assert!((x[2] - 0.6f64.sqrt()).abs() < 1e-15 && x[1].abs() < 1e-15);
    assert!((w[0] - 5.0 / 9.0).abs() < 1e-15 && (w[1] - 8.0 / 9.0).abs() < 1e-15);
    assert!(gauss_legendre(0).is_err());
}

#[test]
fn character_orthogonality_by_haar_quadrature() {
    let q = So3Quadrature::new(12).unwrap();
    // 1183 weights: their sum is 1 to the rounding of the summation.
    assert!((q.weights().iter().sum::<f64>() - 1.0).abs() < 1e-13);
    let mut worst: f64 = 0.0;
    for a in 0..=6 {
        for b in 0..=6 {
            let v = q.integrate(|r| {
                so3_character(a, r.rotation_cosine()) * so3_character(b, r.rotation_cosine())
            });
            worst = worst.max((v - f64::from(u8::from(a == b))).abs());
        }
    }
    assert!(worst < 1e-12, "worst {worst:.2e}");
    // One degree too few and ∫χ_6² is wrong: the degree rule is tight.
    let low = So3Quadrature::new(11).unwrap();
    let v = low.integrate(|r| so3_character(6, r.rotation_cosine()).powi(2));
    assert!((v - 1.0).abs() > 1e-3, "{v}");
}

#[test]
fn haar_quadrature_gives_schur_orthogonality_of_matrix_entries() {
    // ∫ D^a_ij D^b_kl dR = δ_ab δ_ik δ_jl / (2a + 1).
    let q = So3Quadrature::new(6).unwrap();
    let ds: Vec<Vec<Mat<f64>>> = q
        .rotations()
        .iter()
        .map(|r| wigner_d_all(3, r).unwrap())
        .collect();
    let mut worst: f64 = 0.0;
    for a in 0..=3 {
        for b in 0..=3 {
            let (na, nb) = (2 * a + 1, 2 * b + 1);
            for i in 0..na {
                for j in 0..na {
                    for k in 0..nb {
                        for l in 0..nb {
                            let v: f64 = ds
                                .iter()
                                .zip(q.weights())
                                .map(|(d, w)| w * d[a][(i, j)] * d[b][(k, l)])
                                .sum();
                            let want = if a == b && i == k && j == l {
                                1.0 / na as f64
                            } else {
                                0.0
                            };
                            worst = worst.max((v - want).abs());
                        }
                    }
                }
            }
        }
    }
    assert!(worst < 1e-13, "worst {worst:.2e}");
}

/// Modified Bessel function I_n(x) by its power series.
fn bessel_i(n: u32, x: f64) -> f64 {
    let mut term = (x / 2.0).powi(n as i32) / (1..=n).map(f64::from).product::<f64>();
    let mut sum = term;
    for k in 1..200 {
        term *= (x / 2.0).powi(2) / (k as f64 * (k + n) as f64);
        sum += term;
        if term < 1e-18 * sum {
            break;
        }
    }
    sum
}

#[test]
fn refined_quadrature_converges_to_a_closed_form_with_a_shrinking_estimate() {
    // ∫ exp(κ tr R) dR = e^κ (I₀(2κ) − I₁(2κ)) by Weyl's formula; not band-limited.
    let kappa: f64 = 1.5;
    let exact = kappa.exp() * (bessel_i(0, 2.0 * kappa) - bessel_i(1, 2.0 * kappa));
    let f = |r: &Matrix3| (kappa * r.trace()).exp();
    let degrees = [1, 3, 7, 15];
    let values: Vec<f64> = degrees
        .iter()
        .map(|&d| So3Quadrature::new(d).unwrap().integrate(f))
        .collect();
    let estimates: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    assert!(
        estimates.windows(2).all(|e| e[1] < e[0] / 10.0),
        "{estimates:?}"
    );
    let errors: Vec<f64> = values.iter().map(|v| (v - exact).abs()).collect();
    assert!(errors.windows(2).all(|e| e[1] < e[0]), "{errors:?}");
    let a = So3Quadrature::integrate_adaptive(f, 1, 1e-12, 64).unwrap();
    assert!(a.error_estimate <= 1e-12);
    assert!((a.value - exact).abs() < 1e-11, "{} vs {exact}", a.value);
    // A cap below the needed degree is a NotConverged error.
    assert!(matches!(
        So3Quadrature::integrate_adaptive(f, 1, 1e-14, 7),
        Err(eqntk::Error::NotConverged { .. })
    ));
}

// ---------------------------------------------------------------- finite irreps and tables

fn irreps_of(g: &Polyhedral) -> Vec<eqntk::rep::Irrep> {
    polyhedral_irreps(g).unwrap()
}

#[test]
fn finite_irreps_complete_the_group_with_the_known_dimensions_and_names() {
    let want: [(&str, &[usize], &[&str]); 3] = [
        ("O", &[1, 1, 2, 3, 3], &["A1", "A2", "E", "T1", "T2"]),
        (
            "Oh",
            &[1, 1, 2, 3, 3, 1, 1, 2, 3, 3],
            &[
                "A1g", "A2g", "Eg", "T1g", "T2g", "A1u", "A2u", "Eu", "T1u", "T2u",
            ],
        ),
        ("I", &[1, 3, 3, 4, 5], &["A", "T1", "T2", "G", "H"]),
    ];
    for (g, (name, dims, names)) in groups().iter().zip(want) {
        let irreps = irreps_of(g);
        let got: Vec<usize> = irreps.iter().map(|ir| ir.dim()).collect();
        assert_eq!(got, dims, "{name}");
        let got: Vec<&str> = irreps.iter().map(|ir| ir.name.as_str()).collect();
        assert_eq!(got, names, "{name}");
        assert_eq!(
            irreps.iter().map(|ir| ir.dim().pow(2)).sum::<usize>(),
            g.order()
        );
        assert_eq!(irreps.len(), g.conjugacy_classes().len());
        for ir in &irreps {
            assert!(
                ir.rep.homomorphism_error(g).unwrap() < 1e-12,
                "{name} {}",
                ir.name
            );
            assert!(ir.rep.unitarity_error() < 1e-12);
            assert!(ir.has_real_character());
        }
        let t = polyhedral_character_table(g, &irreps);
        assert!(t.row_orthogonality_error().unwrap() < 1e-12);
        assert!(t.column_orthogonality_error().unwrap() < 1e-12);
    }
}

#[test]
fn character_tables_hold_the_textbook_values_of_the_vector_representation() {
    // T1 (T1u in Oh) is the vector representation: χ(g) = tr M_g for every element, e.g.
    // χ_T1(C5) = 1 + 2cos(2π/5) = φ in I.
    for g in groups() {
        let irreps = irreps_of(&g);
        let vector = if g.name() == "Oh" { "T1u" } else { "T1" };
        let t1 = irreps.iter().find(|ir| ir.name == vector).unwrap();
        for a in 0..g.order() {
            assert!((t1.character(a).re - g.matrix(a).trace()).abs() < 1e-12);
        }
    }
    let i = Polyhedral::icosahedral();
    let t = polyhedral_character_table(&i, &irreps_of(&i));
    let md = t.render(eqntk::rep::TableFormat::Markdown);
    assert!(
        md.contains("| T1 | 3 | 3 | 2cos(π/5) | 0 | 2cos(3π/5) | -1 |"),
        "{md}"
    );
    assert!(md.contains("| E | C5 | C3 | C5^2 | C2 |"), "{md}");
}

#[test]
fn wigner_d_is_a_homomorphism_on_every_pair_of_o_oh_and_i() {
    let mut worst: f64 = 0.0;
    for g in groups() {
        for spec in [
            So3RepSpec::Wigner(0),
            So3RepSpec::Wigner(3),
            So3RepSpec::Wigner(6),
            So3RepSpec::Points(2),
            So3RepSpec::Sphere(3),
            So3RepSpec::Tensor(1, 2),
        ] {
            let rep = polyhedral_rep(&g, spec).unwrap();
            worst = worst.max(rep.homomorphism_error(&g).unwrap());
            worst = worst.max(rep.unitarity_error());
        }
    }
    assert!(worst < 1e-12, "worst {worst:.2e}");
}

#[test]
fn restriction_multiplicities_rebuild_the_character_and_match_the_known_splittings() {
    for g in groups() {
        let irreps = irreps_of(&g);
        for l in 0..=10 {
            let spec = So3RepSpec::Wigner(l);
            let m = restriction_multiplicities(&g, &irreps, spec).unwrap();
            for a in 0..g.order() {
                let rebuilt: f64 = irreps
                    .iter()
                    .zip(&m)
                    .map(|(ir, &k)| k as f64 * ir.character(a).re)
                    .sum();
                assert!((rebuilt - spec.character(g.matrix(a))).abs() < 1e-11);
            }
        }
        // The character-only path (used by `group decompose`) agrees with the matrices'.
        for spec in [
            So3RepSpec::Points(3),
            So3RepSpec::Sphere(4),
            So3RepSpec::Tensor(2, 3),
            So3RepSpec::Wigner(7),
        ] {
            assert_eq!(
                character_multiplicities(&g, &irreps, spec).unwrap(),
                restriction_multiplicities(&g, &irreps, spec).unwrap(),
                "{} {spec:?}",
                g.name()
            );
        }
    }
    let names = |g: &Polyhedral, l: usize| -> String {
        let irreps = irreps_of(g);
        let m = restriction_multiplicities(g, &irreps, So3RepSpec::Wigner(l)).unwrap();
        irreps
            .iter()
            .zip(&m)
            .filter(|(_, &k)| k > 0)
            .map(|(ir, &k)| {
                if k == 1 {
                    ir.name.clone()
                } else {
                    format!("{k}{}", ir.name)
                }
            })
            .collect::<Vec<_>>()
            .join("+")
    };
    let (o, oh, i) = (
        Polyhedral::octahedral(),
        Polyhedral::full_octahedral(),
        Polyhedral::icosahedral(),
    );
    // Bethe's splittings of D^l in a cubic and an icosahedral field.
    assert_eq!(names(&o, 2), "E+T2");
    assert_eq!(names(&o, 3), "A2+T1+T2");
    assert_eq!(names(&o, 4), "A1+E+T1+T2");
    assert_eq!(names(&oh, 3), "A2u+T1u+T2u");
    assert_eq!(names(&i, 2), "H");
    assert_eq!(names(&i, 3), "T2+G");
    assert_eq!(names(&i, 6), "A+T1+G+H");
}

// ---------------------------------------------------------------- SO(3), O(3) decompositions

/// `m_l = ∫ tr ρ(R) χ_l(R) dR` by the Euler-angle Haar quadrature on the matrices themselves
/// (for O(3): the mean over R and −R): an independent route to the Weyl multiplicities.
fn quadrature_multiplicities(spec: So3RepSpec, o3: bool) -> Vec<(So3Irrep, usize)> {
    let q = So3Quadrature::new(2 * spec.max_degree()).unwrap();
    let trace = |m: &Matrix3| {
        let r = spec.matrix(m).unwrap();
        (0..r.nrows()).map(|i| r[(i, i)]).sum::<f64>()
    };
    let parities: Vec<Option<i8>> = if o3 {
        vec![Some(1), Some(-1)]
    } else {
        vec![None]
    };
    let mut out = Vec::new();
    for p in parities {
        for l in 0..=spec.max_degree() {
            let ir = So3Irrep {
                degree: l,
                parity: p,
            };
            let mut v = q.integrate(|r| trace(r) * ir.character(r));
            if o3 {
                let vm = q.integrate(|r| {
                    let m = r.scale(-1.0);
                    trace(&m) * ir.character(&m)
                });
                v = (v + vm) / 2.0;
            }
            assert!((v - v.round()).abs() < 1e-10, "{v}");
            out.push((ir, v.round() as usize));
        }
    }
    out
}

#[test]
fn points_and_spherical_signals_decompose_as_expected_by_two_routes() {
    for o3 in [false, true] {
        for spec in [
            So3RepSpec::Points(1),
            So3RepSpec::Points(4),
            So3RepSpec::Sphere(0),
            So3RepSpec::Sphere(5),
            So3RepSpec::Wigner(4),
            So3RepSpec::Tensor(2, 3),
        ] {
            let weyl = so3_multiplicities(|r| spec.character(r), spec.dim(), spec.max_degree(), o3)
                .unwrap();
            assert_eq!(
                weyl,
                quadrature_multiplicities(spec, o3),
                "{spec:?} o3 {o3}"
            );
            for (ir, k) in &weyl {
                let parity_ok = |want: i64| ir.parity.is_none_or(|p| i64::from(p) == want);
                let natural = if ir.degree % 2 == 0 { 1 } else { -1 };
                let want = match spec {
                    So3RepSpec::Points(p) => {
                        if ir.degree == 1 && parity_ok(-1) {
                            p
                        } else {
                            0
                        }
                    }
                    So3RepSpec::Sphere(l) => usize::from(ir.degree <= l && parity_ok(natural)),
                    So3RepSpec::Wigner(l) => usize::from(ir.degree == l && parity_ok(natural)),
                    So3RepSpec::Tensor(a, b) => {
                        let par = if (a + b) % 2 == 0 { 1 } else { -1 };
                        usize::from(
                            ir.degree >= a.abs_diff(b) && ir.degree <= a + b && parity_ok(par),
                        )
                    }
                };
                assert_eq!(*k, want, "{spec:?} {}", ir.name());
            }
        }
    }
}

#[test]
fn tensor_products_follow_clebsch_gordan_and_their_characters_add_up() {
    for a in 0..=6 {
        for b in 0..=6 {
            let m = tensor_product_multiplicities(a, b).unwrap();
            let want: Vec<usize> = (0..=a + b)
                .map(|l| usize::from(l >= a.abs_diff(b)))
                .collect();
            assert_eq!(m, want, "{a} ⊗ {b}");
        }
    }
    // χ_a χ_b = Σ_{|a−b|}^{a+b} χ_l at random angles, and tr(D^a ⊗ D^b) = χ_a χ_b.
    let mut r = rng(6);
    use rand::Rng;
    for _ in 0..20 {
        let c = (r.random::<f64>() * PI).cos();
        for (a, b) in [(1usize, 1usize), (2, 5), (4, 4)] {
            let s: f64 = (a.abs_diff(b)..=a + b).map(|l| so3_character(l, c)).sum();
            assert!((so3_character(a, c) * so3_character(b, c) - s).abs() < 1e-11);
        }
    }
    let rot = random_rotations(1, 7)[0];
    let m = So3RepSpec::Tensor(2, 3).matrix(&rot).unwrap();
    let tr: f64 = (0..m.nrows()).map(|i| m[(i, i)]).sum();
    let c = rot.rotation_cosine();
    assert!((tr - so3_character(2, c) * so3_character(3, c)).abs() < 1e-12);
    // Under I the explicit decomposition of D^1 ⊗ D^1 = A ⊕ T1 ⊕ H rebuilds.
    let i = Polyhedral::icosahedral();
    let irreps = irreps_of(&i);
    let rep = polyhedral_rep(&i, So3RepSpec::Tensor(1, 1)).unwrap();
    let dec = decompose(&i, &rep, &irreps).unwrap();
    assert_eq!(dec.multiplicities, vec![1, 1, 0, 0, 1]);
    let (err, orth) = dec.rebuild_error(&rep).unwrap();
    assert!(err < 1e-12 && orth < 1e-12, "{err:.2e} {orth:.2e}");
}

// ---------------------------------------------------------------- names, bad input, CLI

#[test]
fn group_names_parse_and_bad_ones_are_one_line_errors() {
    for (s, order) in [
        ("SO3", None),
        ("O3", None),
        ("O", Some(24)),
        ("Oh", Some(48)),
        ("I", Some(60)),
    ] {
        match GroupName::parse(s).unwrap() {
            GroupName::Rotation3(g) => {
                assert_eq!(g.to_string(), s);
                assert_eq!(g.order(), order);
            }
            other => panic!("{s} parsed as {other:?}"),
        }
    }
    assert!(matches!(
        GroupName::parse("D4").unwrap(),
        GroupName::Planar(GroupSpec::Dihedral(4))
    ));
    for bad in ["SO4", "Oh:2", "o", "Ih", "I2", ""] {
        let e = GroupName::parse(bad).unwrap_err().to_string();
        assert!(
            !e.contains('\n') && e.contains("unknown group"),
            "{bad}: {e}"
        );
        assert!(e.contains("SO3, O3, O, Oh or I"), "{e}");
    }
    // The planar parser (used by layers, orbits, augmentation) says what is not supported yet.
    let e = GroupSpec::parse("SO3").unwrap_err().to_string();
    assert!(e.contains("not supported") && !e.contains('\n'), "{e}");
    // Degrees are bounded.
    let e = wigner_d(65, &Matrix3::IDENTITY).unwrap_err();
    assert!(matches!(e, eqntk::Error::TooLarge { .. }), "{e}");
    assert!(wigner_d(2, &Matrix3::scalar(-1.0)).is_err());
    assert!(So3RepSpec::parse("wigner:1000").unwrap().is_err());
    assert!(So3RepSpec::parse("tensor:3").unwrap().is_err());
    assert!(So3RepSpec::parse("points:0").unwrap().is_err());
    assert!(So3RepSpec::parse("signal:4").is_none());
    assert!(So3Quadrature::new(100_000).is_err());
    assert!(PolyhedralKind::Icosahedral.order() == 60);
}

#[test]
fn cli_tables_decompositions_and_checks_of_the_3d_groups() {
    for (g, classes) in [("O", 5), ("Oh", 10), ("I", 5)] {
        let (code, out, _) = eqntk(&["group", "table", g, "--format", "json"]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["classes"].as_array().unwrap().len(), classes);
        let order = v["order"].as_f64().unwrap();
        // Row orthogonality from the printed numbers.
        let sizes: Vec<f64> = v["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["size"].as_f64().unwrap())
            .collect();
        let rows: Vec<Vec<f64>> = v["irreps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|ir| {
                ir["characters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap())
                    .collect()
            })
            .collect();
        for (a, ra) in rows.iter().enumerate() {
            for (b, rb) in rows.iter().enumerate() {
                let s: f64 = (0..sizes.len())
                    .map(|c| sizes[c] * ra[c] * rb[c])
                    .sum::<f64>()
                    / order;
                assert!((s - f64::from(u8::from(a == b))).abs() < 1e-12, "{g}");
            }
        }
        let (code, out, _) = eqntk(&["group", "check", g]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("all pass"));
        let (code, latex, _) = eqntk(&["group", "table", g, "--format", "latex"]);
        assert_eq!(code, 0);
        assert!(latex.contains("\\begin{tabular}") && latex.contains("\\toprule"));
    }
    for g in ["SO3", "O3"] {
        let (code, out, _) = eqntk(&["group", "check", g, "--format", "json"]);
        assert_eq!(code, 0, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["passed"], true);
        let (code, out, _) = eqntk(&["group", "table", g]);
        assert_eq!(code, 0);
        assert!(out.contains("| D1 | 3 | 3 | 2 | 1 | 0 | -1 |") || out.contains("| D1g | 3 |"));
    }
    let (code, out, _) = eqntk(&["group", "decompose", "O3", "points:3", "--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let nonzero: Vec<(String, u64)> = v["multiplicities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["multiplicity"].as_u64().unwrap() > 0)
        .map(|m| {
            (
                m["irrep"].as_str().unwrap().to_string(),
                m["multiplicity"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(nonzero, vec![("D1u".to_string(), 3)]);
    let (code, out, _) = eqntk(&["group", "decompose", "Oh", "points:2"]);
    assert_eq!(code, 0);
    assert!(out.contains("points:2 = 2·T1u"), "{out}");
    let (code, out, _) = eqntk(&["group", "decompose", "I", "regular"]);
    assert_eq!(code, 0);
    assert!(out.contains("A ⊕ 3·T1 ⊕ 3·T2 ⊕ 4·G ⊕ 5·H"), "{out}");
    let (code, out, _) = eqntk(&["group", "decompose", "SO3", "tensor:2,3"]);
    assert_eq!(code, 0);
    assert!(out.contains("tensor:2,3 = D1 ⊕ D2 ⊕ D3 ⊕ D4 ⊕ D5"), "{out}");
}

#[test]
fn cli_bad_input_is_one_line_with_exit_code_2() {
    for args in [
        &["group", "table", "SO4"][..],
        &["group", "check", "Ih"],
        &["group", "decompose", "SO3", "regular"],
        &["group", "decompose", "SO3", "wigner:65"],
        &["group", "decompose", "O", "sphere:100000"],
        &["group", "decompose", "I", "signal:5"],
        &["group", "decompose", "Oh", "tensor:1"],
        &["group", "decompose", "O", "points:0"],
        &["group", "decompose", "O", "points:100000000"],
    ] {
        let e = fails(args);
        assert!(!e.trim().contains('\n'), "{args:?}: {e}");
    }
}

#[test]
fn d_of_a_z_rotation_is_the_closed_form_block_rotation() {
    // Y_lm(R_z(α) x) shifts φ by α: cos mφ ↦ cos mα cos mφ − sin mα sin mφ (m > 0), so
    // D[m][m] = D[−m][−m] = cos mα, D[m][−m] = −sin mα, D[−m][m] = sin mα.
    let alpha = 0.83;
    for l in 0..=8usize {
        let d = eqntk::rep::wigner_d_euler(l, alpha, 0.0, 0.0).unwrap();
        let n = 2 * l + 1;
        let mut want = Mat::<f64>::zeros(n, n);
        want[(l, l)] = 1.0;
        for m in 1..=l {
            let (s, c) = (m as f64 * alpha).sin_cos();
            want[(l + m, l + m)] = c;
            want[(l - m, l - m)] = c;
            want[(l + m, l - m)] = -s;
            want[(l - m, l + m)] = s;
        }
        assert!(max_diff(&d, &want) < 1e-14, "l {l}");
    }
}

#[test]
fn o3_splits_into_a_sign_and_a_rotation() {
    let o3 = eqntk::group::O3;
    let mut r = rng(9);
    let mut improper = 0;
    for _ in 0..200 {
        let m = o3.random(&mut r);
        assert!(o3.contains(&m, 1e-13));
        let (s, rot) = o3.split(&m);
        assert!(rot.is_rotation(1e-13) && (s * s - 1.0).abs() == 0.0);
        assert!(rot.scale(s).max_abs_diff(&m) == 0.0);
        improper += usize::from(s < 0.0);
        // D^l_u(−R) = −D^l(R), D^l_g(−R) = D^l(R).
        let du = So3Irrep::with_parity(2, -1).matrix(&m).unwrap();
        let dl = wigner_d(2, &rot).unwrap();
        assert!(max_diff(&du, &if s < 0.0 { -&dl } else { dl.clone() }) == 0.0);
    }
    // About half of Haar-random O(3) elements are improper (binomial, 4.5 standard errors).
    assert!((improper as f64 - 100.0).abs() < 32.0, "{improper}");
    assert!(!So3.contains(&Matrix3::scalar(-1.0), 1e-12));
    assert!(o3.contains(&Matrix3::scalar(-1.0), 1e-12));
}
