//! Group axioms, conjugacy classes and the stated conventions of every group.

use std::f64::consts::PI;

use eqntk::group::{Cyclic, Dihedral, FiniteGroup, GroupSpec, PointGroup, RotoTranslation, So2};
use rand::{Rng, SeedableRng};

fn all_finite() -> Vec<Box<dyn FiniteGroup>> {
    let mut v: Vec<Box<dyn FiniteGroup>> = Vec::new();
    for n in 1..=12 {
        v.push(Box::new(Cyclic::new(n).unwrap()));
        v.push(Box::new(Dihedral::new(n).unwrap()));
    }
    v.push(Box::new(RotoTranslation::p4(3).unwrap()));
    v.push(Box::new(RotoTranslation::p4m(3).unwrap()));
    v
}

#[test]
fn axioms_hold_exhaustively() {
    for g in all_finite() {
        g.check_axioms()
            .unwrap_or_else(|e| panic!("{}: {e}", g.name()));
        assert_eq!(g.identity(), 0);
    }
}

#[test]
fn conjugacy_classes_partition_the_group_and_are_closed_under_conjugation() {
    for g in all_finite() {
        let classes = g.conjugacy_classes();
        let mut seen = vec![0; g.order()];
        for c in &classes {
            assert_eq!(c.representative, c.elements[0], "{}", g.name());
            for &x in &c.elements {
                seen[x] += 1;
                for h in g.elements() {
                    assert!(c.elements.contains(&g.conjugate(h, x)));
                }
            }
            // class size divides the order
            assert_eq!(g.order() % c.size(), 0);
        }
        assert!(seen.iter().all(|&k| k == 1), "{}", g.name());
        assert_eq!(classes[0].elements, vec![0]);
    }
}

#[test]
fn class_counts_match_closed_forms() {
    for n in 1..=12usize {
        let c = Cyclic::new(n).unwrap();
        assert_eq!(c.conjugacy_classes().len(), n);
        let d = Dihedral::new(n).unwrap();
        // D_n: (n+3)/2 classes for odd n, n/2 + 3 for even n (n ≥ 2); D1 = Z2 has 2; D2 has 4.
        let want = match n {
            1 => 2,
            2 => 4,
            _ if n % 2 == 1 => (n + 3) / 2,
            _ => n / 2 + 3,
        };
        assert_eq!(d.conjugacy_classes().len(), want, "D{n}");
    }
}

#[test]
fn dihedral_conventions() {
    for n in 1..=12usize {
        let d = Dihedral::new(n).unwrap();
        let (r, s) = (d.element(1, false), d.element(0, true));
        assert_eq!(d.order(), 2 * n);
        // s r s = r⁻¹, r^n = e, s² = e
        assert_eq!(d.mul(d.mul(s, r), s), d.inv(r));
        assert_eq!(d.pow(r, n), 0);
        assert_eq!(d.mul(s, s), 0);
        for a in 0..n {
            // element n + a is r^a s
            assert_eq!(d.mul(d.pow(r, a), s), n + a);
            for b in 0..n {
                // r^a s · r^b s = r^{a−b}
                assert_eq!(d.mul(n + a, n + b), (a + n - b) % n);
            }
        }
    }
    // D1 ≅ Z2, D2 = Klein four-group (abelian, every non-identity element of order 2).
    let d1 = Dihedral::new(1).unwrap();
    assert_eq!(d1.order(), 2);
    assert!(d1.is_abelian());
    let d2 = Dihedral::new(2).unwrap();
    assert!(d2.is_abelian());
    assert!((1..4).all(|g| d2.element_order(g) == 2));
    assert!(!Dihedral::new(3).unwrap().is_abelian());
}

#[test]
fn cyclic_conventions() {
    let c = Cyclic::new(8).unwrap();
    assert_eq!(c.mul(5, 6), 3);
    assert_eq!(c.inv(3), 5);
    assert!((c.angle(2) - PI / 2.0).abs() < 1e-15);
    assert_eq!(c.subgroup_embedding(4).unwrap(), vec![0, 2, 4, 6]);
    assert!(c.subgroup_embedding(3).is_err());
    assert_eq!(c.element_name(3), "r^3");
}

#[test]
fn roto_translation_conventions() {
    for g in [
        RotoTranslation::p4(3).unwrap(),
        RotoTranslation::p4m(4).unwrap(),
    ] {
        let h = g.h();
        assert_eq!(g.order(), g.point_group().order() * h * h);
        for a in g.elements() {
            let ((ti, tj), p) = g.split(a);
            assert_eq!(g.element((ti, tj), p), a);
            // The action on sites is a homomorphism: (ab)·x = a·(b·x).
            for b in g.elements().step_by(5) {
                for x in [(0, 0), (1, 2), (h - 1, 0)] {
                    assert_eq!(g.act_site(g.mul(a, b), x), g.act_site(a, g.act_site(b, x)));
                }
            }
        }
        // (t, e) translates; (0, r) rotates the offset (1, 0) to (0, 1).
        assert_eq!(g.act_site(g.element((1, 2), 0), (0, 0)), (1, 2));
        assert_eq!(g.act_site(g.element((0, 0), 1), (1, 0)), (0, 1));
        // Pure translations form an abelian normal subgroup.
        let t = g.translation_embedding();
        for &x in &t {
            for y in g.elements() {
                assert!(t.contains(&g.conjugate(y, x)));
            }
        }
    }
    assert!(RotoTranslation::p4(0).is_err());
}

#[test]
fn point_group_on_offsets() {
    for pg in [PointGroup::C4, PointGroup::D4] {
        let g = pg.group();
        let offs = [(1, 0), (0, 1), (2, -3), (-1, 5)];
        for a in g.elements() {
            for b in g.elements() {
                for &o in &offs {
                    assert_eq!(
                        pg.act_offset(g.mul(a, b), o),
                        pg.act_offset(a, pg.act_offset(b, o))
                    );
                }
            }
            assert_eq!(pg.mul(a, pg.inv(a)), 0);
        }
    }
    let d4 = PointGroup::D4;
    assert_eq!(d4.act_offset(1, (1, 0)), (0, 1)); // r·(di,dj) = (−dj, di)
    assert_eq!(d4.act_offset(1, (0, 1)), (-1, 0));
    assert_eq!(d4.act_offset(4, (1, 2)), (2, 1)); // s = transpose
    assert_eq!(d4.act_offset(5, (1, 2)), (-1, 2)); // r s: transpose, then rotate
    assert_eq!(d4.matrix(1), [[0, -1], [1, 0]]);
}

#[test]
fn so2_axioms_sampled() {
    let g = So2::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for _ in 0..200 {
        let (a, b, c) = (
            rng.random::<f64>() * 10.0 - 5.0,
            rng.random::<f64>() * 2.0 * PI,
            rng.random::<f64>() * 2.0 * PI,
        );
        let l = g.mul(g.mul(a, b), c);
        let r = g.mul(a, g.mul(b, c));
        assert!(So2::distance(l, r) < 1e-12);
        assert!(So2::distance(g.mul(a, g.identity()), a) < 1e-12);
        assert!(So2::distance(g.mul(a, g.inv(a)), 0.0) < 1e-12);
        let x = g.mul(a, b);
        assert!((0.0..2.0 * PI).contains(&x));
    }
    // Haar average through C_N quadrature is exact below degree N and aliases at N.
    let avg = So2::haar_average(7, |t: f64| (3.0 * t).cos() + 1.0).unwrap();
    assert!((avg - 1.0).abs() < 1e-14);
    let alias = So2::haar_average(7, |t: f64| (7.0 * t).cos()).unwrap();
    assert!((alias - 1.0).abs() < 1e-12);
}

#[test]
fn group_names_parse() {
    assert_eq!(GroupSpec::parse("C8").unwrap(), GroupSpec::Cyclic(8));
    assert_eq!(GroupSpec::parse("D4").unwrap(), GroupSpec::Dihedral(4));
    assert_eq!(
        GroupSpec::parse("SO2:6").unwrap(),
        GroupSpec::So2 {
            band_limit: Some(6)
        }
    );
    assert_eq!(GroupSpec::parse("p4m:5").unwrap(), GroupSpec::P4m(Some(5)));
    assert_eq!(GroupSpec::parse("p4").unwrap(), GroupSpec::P4(None));
    for bad in ["C0", "D0", "X3", "C", "Cx", "SO3", "p4:0", "p4m:x", "SO2:"] {
        let e = GroupSpec::parse(bad).unwrap_err();
        assert!(!e.to_string().is_empty(), "{bad}");
    }
    assert!(GroupSpec::parse("p4").unwrap().finite_group(None).is_err());
    assert_eq!(
        GroupSpec::parse("p4")
            .unwrap()
            .finite_group(Some(3))
            .unwrap()
            .order(),
        36
    );
    assert!(GroupSpec::parse("SO2").unwrap().finite_group(None).is_err());
    for s in ["C8", "D4", "SO2", "SO2:3", "p4", "p4:3", "p4m", "p4m:2"] {
        assert_eq!(GroupSpec::parse(s).unwrap().to_string(), s);
    }
}
