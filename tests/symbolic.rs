//! Tests of the symbolic layer: printing, normal form, evaluation, derivations.
//! Expected strings are written by hand from MATH.md and the notation table of `symbolic`.

use eqntk::symbolic::*;

fn p(name: &str) -> Expr {
    Expr::from(Param::named(name))
}
fn sw2() -> Expr {
    Expr::from(Param::sigma_w()).squared()
}
fn sb2() -> Expr {
    Expr::from(Param::sigma_b()).squared()
}
fn none() -> Assumptions {
    Assumptions::new()
}
fn pv() -> Index {
    IndexVar::p().into()
}
fn pp() -> Index {
    IndexVar::p().prime().into()
}
fn gv() -> Index {
    IndexVar::g().into()
}
fn gp() -> Index {
    IndexVar::g().prime().into()
}
fn dv() -> Index {
    IndexVar::delta().into()
}
fn all3(e: &Expr) -> [String; 3] {
    [e.to_latex(), e.to_unicode(), e.to_plain()]
}

// ---------------------------------------------------------------- printing

#[test]
fn dense_recursion_prints_in_three_formats() {
    let k1 = (sw2() * KernelSym::nngp(0) + sb2()).normalize(&none());
    assert_eq!(
        all3(&k1),
        [
            r"\sigma_w^2 K^{(0)}(x,x') + \sigma_b^2",
            "σ_w² K⁽⁰⁾(x,x′) + σ_b²",
            "sigma_w^2*K0(x,x') + sigma_b^2",
        ]
    );
    // Θ' = σ_w² Θ + K' (MATH.md §2)
    let t1 = (Expr::from(KernelSym::nngp(1)) + sw2() * KernelSym::ntk(0)).normalize(&none());
    assert_eq!(
        all3(&t1),
        [
            r"\sigma_w^2 \Theta^{(0)}(x,x') + K^{(1)}(x,x')",
            "σ_w² Θ⁽⁰⁾(x,x′) + K⁽¹⁾(x,x′)",
            "sigma_w^2*Theta0(x,x') + K1(x,x')",
        ]
    );
}

#[test]
fn conv_recursion_prints_as_an_average() {
    // K'[p,p'] = σ_w² (1/|F|) Σ_{δ∈F} K[p+δ, p'+δ] + σ_b²  (MATH.md §4)
    let body = Expr::from(KernelSym::nngp(0).at(pv() + dv(), pp() + dv()));
    let k1 = (sw2() * Expr::mean(IndexVar::delta(), IndexSet::Filter, body.clone()) + sb2())
        .normalize(&none());
    assert_eq!(
        all3(&k1),
        [
            r"\frac{\sigma_w^2}{|F|}\sum_{\delta\in F} K^{(0)}_{p+\delta,p'+\delta}(x,x') + \sigma_b^2",
            "(σ_w²/|F|) Σ_{δ∈F} K⁽⁰⁾[p+δ,p'+δ](x,x′) + σ_b²",
            "(sigma_w^2/|F|)*sum_{d in F} K0[p+d,p'+d](x,x') + sigma_b^2",
        ]
    );
    let mean = Expr::mean(IndexVar::delta(), IndexSet::Filter, body).normalize(&none());
    assert_eq!(
        mean.to_latex(),
        r"\frac{1}{|F|}\sum_{\delta\in F} K^{(0)}_{p+\delta,p'+\delta}(x,x')"
    );
    let lhs = KernelSym::ntk(2).at(pv(), pp());
    assert_eq!(
        [
            lhs.render(Format::Latex),
            lhs.render(Format::Unicode),
            lhs.render(Format::Plain)
        ],
        [
            r"\Theta^{(2)}_{p,p'}(x,x')",
            "Θ⁽²⁾[p,p'](x,x′)",
            "Theta2[p,p'](x,x')"
        ]
    );
}

#[test]
fn group_indices_print() {
    // lifting: K¹[(g,p),(g',p')] = σ_w² (1/|F|) Σ_δ K⁰[p + A_g δ, p' + A_g' δ] + σ_b²
    let lhs = KernelSym::nngp(1).at(Index::pair(gv(), pv()), Index::pair(gp(), pp()));
    assert_eq!(lhs.render(Format::Latex), r"K^{(1)}_{(g,p),(g',p')}(x,x')");
    let k = KernelSym::nngp(0).at(pv() + Index::act(gv(), dv()), pp() + Index::act(gp(), dv()));
    assert_eq!(
        [
            k.render(Format::Latex),
            k.render(Format::Unicode),
            k.render(Format::Plain)
        ],
        [
            r"K^{(0)}_{p+A_{g}\delta,p'+A_{g'}\delta}(x,x')",
            "K⁽⁰⁾[p+A_g δ,p'+A_g' δ](x,x′)",
            "K0[p+A_g(d),p'+A_g'(d)](x,x')",
        ]
    );
    // group convolution: M[(g h, p + A_g δ), (g' h, p' + A_g' δ)]
    let h: Index = IndexVar::h().into();
    let m = KernelSym::nngp(1).at(
        Index::pair(gv() * h.clone(), pv() + Index::act(gv(), dv())),
        Index::pair(gp() * h.clone(), pp() + Index::act(gp(), dv())),
    );
    assert_eq!(
        m.render(Format::Plain),
        "K1[(g*h,p+A_g(d)),(g'*h,p'+A_g'(d))](x,x')"
    );
    assert_eq!(
        m.render(Format::Unicode),
        "K⁽¹⁾[(gh,p+A_g δ),(g'h,p'+A_g' δ)](x,x′)"
    );
    // inverses and compound elements take parentheses only where needed
    let inv = (gv() * h.clone()).inv();
    assert_eq!(
        [
            inv.render(Format::Latex),
            inv.render(Format::Unicode),
            inv.render(Format::Plain)
        ],
        ["(g h)^{-1}", "(gh)⁻¹", "(g*h)^-1"]
    );
    let gg = gv() * gp().inv();
    assert_eq!(
        [
            gg.render(Format::Latex),
            gg.render(Format::Unicode),
            gg.render(Format::Plain)
        ],
        ["g g'^{-1}", "gg'⁻¹", "g*g'^-1"]
    );
    let act = Index::act(gv() * h, dv());
    assert_eq!(
        [
            act.render(Format::Latex),
            act.render(Format::Unicode),
            act.render(Format::Plain)
        ],
        [r"A_{g h}\delta", "A_(gh) δ", "A_(g*h)(d)"]
    );
}

#[test]
fn orbit_average_and_tags_print() {
    // Θ_GCNN = (1/|G|) Σ_g Θ_MLP(x, ρ(g) x')
    let theta = KernelSym::ntk(2)
        .tagged("MLP")
        .with_args(Arg::x(), Arg::x_prime().transformed(IndexVar::g()));
    let avg = Expr::mean(IndexVar::g(), IndexSet::Group, theta.into()).normalize(&none());
    assert_eq!(
        all3(&avg),
        [
            r"\frac{1}{|G|}\sum_{g\in G} \Theta^{(2)}_{\mathrm{MLP}}(x,\rho(g)x')",
            "(1/|G|) Σ_{g∈G} Θ⁽²⁾_MLP(x,ρ(g)x′)",
            "(1/|G|)*sum_{g in G} Theta2_MLP(x,rho(g)x')",
        ]
    );
    let tagged = KernelSym::nngp(1).tagged("GCNN").at(gv(), gp());
    assert_eq!(
        tagged.render(Format::Latex),
        r"K^{(1)}_{\mathrm{GCNN};\,g,g'}(x,x')"
    );
    assert_eq!(tagged.render(Format::Plain), "K1_GCNN[g,g'](x,x')");
    let rho = KernelSym::nngp(1).with_args(Arg::x(), Arg::x_prime().transformed(gv() * gp().inv()));
    assert_eq!(rho.render(Format::Unicode), "K⁽¹⁾(x,ρ(gg'⁻¹)x′)");
}

/// The arc-cosine kernel of MATH.md §3 as an expression of k₁₁, k₁₂, k₂₂.
fn relu_t() -> Expr {
    let (k11, k12, k22) = (Param::k(1, 1), Param::k(1, 2), Param::k(2, 2));
    let root = (Expr::from(k11) * k22).sqrt();
    let theta = (Expr::from(k12) / root.clone()).arccos();
    let bracket = theta.clone().sin() + (Expr::pi() - theta.clone()) * theta.cos();
    root / (2.0 * Expr::pi()) * bracket
}

#[test]
fn relu_closed_form_prints() {
    let theta = Expr::from(Param::theta());
    let (k11, k22) = (Param::k(1, 1), Param::k(2, 2));
    let t = ((Expr::from(k11) * k22).sqrt() / (2.0 * Expr::pi())
        * (theta.clone().sin() + (Expr::pi() - theta.clone()) * theta.cos()))
    .normalize(&none());
    assert_eq!(
        all3(&t),
        [
            r"\frac{\sqrt{k_{11} k_{22}}}{2 \pi}\left(\sin\left(\theta\right) + \cos\left(\theta\right) \left(\pi - \theta\right)\right)",
            "(√(k₁₁ k₂₂)/(2 π)) (sin(θ) + cos(θ) (π − θ))",
            "(sqrt(k11*k22)/(2*pi))*(sin(theta) + cos(theta)*(pi - theta))",
        ]
    );
    let tdot = Expr::dual_dot(
        "ReLU",
        KernelSym::nngp(1)
            .at(pv(), pv())
            .with_args(Arg::x(), Arg::x())
            .into(),
        KernelSym::nngp(1).at(pv(), pp()).into(),
        KernelSym::nngp(1)
            .at(pp(), pp())
            .with_args(Arg::x_prime(), Arg::x_prime())
            .into(),
    ) * KernelSym::ntk(1).at(pv(), pp());
    assert_eq!(
        tdot.to_plain(),
        "Tdot_ReLU(K1[p,p](x,x), K1[p,p'](x,x'), K1[p',p'](x',x'))*Theta1[p,p'](x,x')"
    );
    assert_eq!(
        tdot.to_latex(),
        r"\dot{T}_{\mathrm{ReLU}}\left(K^{(1)}_{p,p}(x,x), K^{(1)}_{p,p'}(x,x'), K^{(1)}_{p',p'}(x',x')\right) \Theta^{(1)}_{p,p'}(x,x')"
    );
}

#[test]
fn precedence_and_minimal_parentheses() {
    let (a, b, c) = (p("a"), p("b"), p("c"));
    // raw trees (not normalised) keep their order
    assert_eq!(
        ((a.clone() + b.clone()) * c.clone()).to_plain(),
        "(a + b)*c"
    );
    assert_eq!((a.clone() * b.clone() + c.clone()).to_plain(), "a*b + c");
    assert_eq!(
        (a.clone() - (b.clone() + c.clone())).to_plain(),
        "a - (b + c)"
    );
    assert_eq!((a.clone() - b.clone() * c.clone()).to_plain(), "a - b*c");
    assert_eq!((a.clone() * b.clone()).squared().to_plain(), "(a*b)^2");
    assert_eq!(
        (a.clone() * b.clone()).squared().to_latex(),
        r"\left(a b\right)^2"
    );
    assert_eq!((-a.clone().squared()).to_plain(), "-a^2");
    assert_eq!((-a.clone()).squared().to_plain(), "(-a)^2");
    assert_eq!(Expr::num(-2.0).squared().to_plain(), "(-2)^2");
    assert_eq!(a.clone().pow(b.clone() + c.clone()).to_plain(), "a^(b + c)");
    assert_eq!(a.clone().pow(b.clone() + c.clone()).to_latex(), "a^{b + c}");
    assert_eq!(a.clone().pow(0.5).to_plain(), "a^(1/2)");
    assert_eq!(a.clone().pow(0.5).to_latex(), r"a^{\frac{1}{2}}");
    assert_eq!(a.clone().powi(-1).to_plain(), "1/a");
    assert_eq!(
        (a.clone() * b.clone()).powi(-1).to_latex(),
        r"\frac{1}{a b}"
    );
    assert_eq!((a.clone() * b.clone()).powi(-1).to_plain(), "1/(a*b)");
    assert_eq!(a.clone().powi(-2).to_unicode(), "1/a²");
    assert_eq!(
        a.clone().sqrt().squared().to_latex(),
        r"\left(\sqrt{a}\right)^2"
    );
    assert_eq!(a.clone().sqrt().to_unicode(), "√a");
    assert_eq!((a.clone() + b.clone()).sqrt().to_unicode(), "√(a + b)");
    // normalised fractions
    let frac = (a.clone() / (b.clone() * c.clone())).normalize(&none());
    assert_eq!(all3(&frac), [r"\frac{a}{b c}", "a/(b c)", "a/(b*c)"]);
    let half = (0.5 * a.clone()).normalize(&none());
    assert_eq!(all3(&half), [r"\frac{a}{2}", "a/2", "a/2"]);
    let neg = (a.clone() - 2.0 * b.clone()).normalize(&none());
    assert_eq!(all3(&neg), ["a - 2 b", "a − 2 b", "a - 2*b"]);
    let lead = (-a.clone() - b.clone()).normalize(&none());
    assert_eq!(lead.to_plain(), "-a - b");
    // index sums: an Add body takes parentheses, a sum followed by a factor too
    let k = Expr::from(KernelSym::nngp(0).at(dv(), dv()));
    let s = Expr::sum(IndexVar::delta(), IndexSet::Filter, k.clone() + a.clone());
    assert_eq!(s.to_plain(), "sum_{d in F} (K0[d,d](x,x') + a)");
    let sa = Expr::sum(IndexVar::delta(), IndexSet::Filter, k.clone()) * a.clone();
    assert_eq!(sa.to_plain(), "(sum_{d in F} K0[d,d](x,x'))*a");
    let nested = Expr::sum(
        IndexVar::h(),
        IndexSet::Support,
        Expr::sum(IndexVar::delta(), IndexSet::Filter, k),
    );
    assert_eq!(
        nested.to_latex(),
        r"\sum_{h\in H} \sum_{\delta\in F} K^{(0)}_{\delta,\delta}(x,x')"
    );
    assert_eq!(nested.to_unicode(), "Σ_{h∈H} Σ_{δ∈F} K⁽⁰⁾[δ,δ](x,x′)");
}

#[test]
fn numbers_print_exactly() {
    let n = |x: f64| Expr::num(x).to_plain();
    assert_eq!(n(3.0), "3");
    assert_eq!(n(-3.0), "-3");
    assert_eq!(n(0.5), "1/2");
    assert_eq!(n(1.0 / 3.0), "1/3");
    assert_eq!(n(-2.0 / 7.0), "-2/7");
    assert_eq!(n(0.15), "0.15");
    assert_eq!(n(0.1 + 0.2), "0.30000000000000004");
    assert_eq!(n(1e-20), "1e-20");
    assert_eq!(Expr::num(1.5e-20).to_latex(), r"1.5 \times 10^{-20}");
    assert_eq!(Expr::num(1.5e-20).to_unicode(), "1.5×10⁻²⁰");
    assert_eq!(Expr::num(0.5).to_latex(), r"\frac{1}{2}");
    assert_eq!(Expr::num(-0.0).normalize(&none()).to_plain(), "0");
    // shortest round trip: the printed decimal parses back to the same f64
    for x in [
        0.123456789 * 1.1,
        2.0f64.sqrt(),
        std::f64::consts::E,
        1e300,
        6.02e-7,
    ] {
        let s = n(x);
        assert_eq!(s.parse::<f64>().unwrap(), x, "{s}");
    }
    // 1/(2π) with π kept symbolic
    let e = (Expr::num(1.0) / (2.0 * Expr::pi())).normalize(&none());
    assert_eq!(all3(&e), [r"\frac{1}{2 \pi}", "1/(2 π)", "1/(2*pi)"]);
}

#[test]
fn printing_is_deterministic() {
    let e = relu_t().normalize(&none());
    for f in [Format::Latex, Format::Unicode, Format::Plain] {
        assert_eq!(e.render(f), e.clone().render(f));
        assert_eq!(e.render(f), relu_t().normalize(&none()).render(f));
    }
}

// ---------------------------------------------------------------- normal form

fn samples() -> Vec<Expr> {
    let (a, b, c) = (p("a"), p("b"), p("c"));
    let k = Expr::from(KernelSym::nngp(0).at(pv() + dv(), pp() + dv()));
    vec![
        a.clone() + b.clone(),
        b.clone() * a.clone() * 2.0 * a.clone(),
        (a.clone() + b.clone()) * (c.clone() - a.clone()) / (a.clone() * b.clone()),
        (a.clone() * b.clone()).powi(3) * a.clone().powi(-3),
        relu_t(),
        sw2() * Expr::mean(IndexVar::delta(), IndexSet::Filter, k.clone() * 3.0 + sb2()) + sb2(),
        Expr::sum(
            IndexVar::delta(),
            IndexSet::Filter,
            a.clone() * k.clone() + k.clone() * b.clone(),
        ),
        a.clone().sqrt().powi(4) + a.clone().pow(Expr::num(2.0) * b.clone()),
        Expr::dual("Erf", a.clone() + 1.0, 2.0 * b.clone(), c.clone()) - 1.0,
        (Expr::num(2.0) + 3.0) * (a.clone() - a.clone() + 0.0) + c.clone().exp(),
    ]
}

#[test]
fn normal_form_is_idempotent() {
    let a = Assumptions::new().with_zero(Param::sigma_b());
    for e in samples() {
        for asm in [&none(), &a] {
            let n = e.normalize(asm);
            assert_eq!(n.normalize(asm), n, "{n}");
            assert_eq!(n.normalize(asm).to_latex(), n.to_latex());
        }
    }
}

#[test]
fn normal_form_is_commutative_and_associative() {
    let (a, b, c) = (p("a"), p("b"), p("c"));
    let k = Expr::from(KernelSym::ntk(1));
    let pairs = [
        (a.clone() + b.clone(), b.clone() + a.clone()),
        (a.clone() * b.clone(), b.clone() * a.clone()),
        (
            (a.clone() + b.clone()) + c.clone(),
            a.clone() + (b.clone() + c.clone()),
        ),
        (
            (a.clone() * k.clone()) * c.clone(),
            c.clone() * (k.clone() * a.clone()),
        ),
        (sw2() * k.clone() + sb2(), sb2() + k.clone() * sw2()),
        (a.clone() - b.clone(), -(b.clone() - a.clone())),
        (
            a.clone() / b.clone() / c.clone(),
            a.clone() / (c.clone() * b.clone()),
        ),
    ];
    for (x, y) in pairs {
        let (nx, ny) = (x.normalize(&none()), y.normalize(&none()));
        assert_eq!(nx, ny);
        for f in [Format::Latex, Format::Unicode, Format::Plain] {
            assert_eq!(nx.render(f), ny.render(f));
        }
    }
}

#[test]
fn normal_form_folds_and_collects() {
    let (a, b) = (p("a"), p("b"));
    let norm = |e: Expr| e.normalize(&none()).to_plain();
    assert_eq!(norm(Expr::num(2.0) + 3.0), "5");
    assert_eq!(norm(Expr::num(2.0) * a.clone() * 3.0), "6*a");
    assert_eq!(norm(a.clone() + a.clone()), "2*a");
    assert_eq!(norm(a.clone() - a.clone()), "0");
    assert_eq!(norm(a.clone() + 0.0), "a");
    assert_eq!(norm(a.clone() * 1.0), "a");
    assert_eq!(norm(a.clone() * 0.0 + b.clone()), "b");
    assert_eq!(norm(a.clone().pow(1.0)), "a");
    assert_eq!(norm(a.clone().pow(0.0)), "1");
    assert_eq!(norm(a.clone() * a.clone() * a.clone()), "a^3");
    assert_eq!(norm(a.clone().squared().powi(3)), "a^6");
    assert_eq!(norm((2.0 * a.clone()).squared()), "4*a^2");
    assert_eq!(norm(a.clone().sqrt().squared()), "a");
    assert_eq!(norm(Expr::num(2.0).powi(-1)), "1/2");
    assert_eq!(
        norm(Expr::num(4.0).sqrt() + Expr::num(2.0).sqrt()),
        "sqrt(2) + 2"
    );
    assert_eq!(norm(Expr::num(0.0).arccos()), "pi/2");
    assert_eq!(norm(Expr::num(1.0).arccos() + Expr::num(0.0).cos()), "1");
    assert_eq!(
        norm(2.0 * a.clone() + 3.0 * a.clone() * 1.0 - b.clone()),
        "5*a - b"
    );
    // σ_b² disappears when σ_b = 0; other values are substituted
    let no_bias = Assumptions::new().with_zero(Param::sigma_b());
    let k1 = sw2() * KernelSym::nngp(0) + sb2();
    assert_eq!(k1.normalize(&no_bias).to_plain(), "sigma_w^2*K0(x,x')");
    let vals = no_bias.with_value(Param::sigma_w(), 1.5);
    assert_eq!(k1.normalize(&vals).to_plain(), "(9/4)*K0(x,x')");
}

#[test]
fn index_sums_are_linear() {
    let k = Expr::from(KernelSym::nngp(0).at(pv() + dv(), pp() + dv()));
    let d = IndexVar::delta();
    let f = IndexSet::Filter;
    let norm = |e: Expr| e.normalize(&none()).to_plain();
    // Σ_δ (σ_w² K + σ_b²) = σ_w² Σ_δ K + |F| σ_b²
    assert_eq!(
        norm(Expr::sum(d.clone(), f, sw2() * k.clone() + sb2())),
        "sigma_w^2*sum_{d in F} K0[p+d,p'+d](x,x') + sigma_b^2*|F|"
    );
    // the average of a constant is the constant
    assert_eq!(norm(Expr::mean(d.clone(), f, sb2())), "sigma_b^2");
    // a sum whose variable is shadowed by an inner sum does not depend on it
    let inner = Expr::sum(d.clone(), f, k);
    assert_eq!(
        norm(Expr::sum(d, f, inner)),
        "|F|*sum_{d in F} K0[p+d,p'+d](x,x')"
    );
}

#[test]
fn expand_gives_the_polynomial_of_a_linear_network() {
    // K² = σ_w² (σ_w² K⁰ + σ_b²) + σ_b² = σ_w⁴ K⁰ + σ_w² σ_b² + σ_b²
    let k0 = Expr::from(KernelSym::nngp(0));
    let k2 = sw2() * (sw2() * k0 + sb2()) + sb2();
    assert_eq!(
        k2.expand(&none()).to_plain(),
        "sigma_w^4*K0(x,x') + sigma_b^2 + sigma_b^2*sigma_w^2"
    );
    let sq = (p("a") + p("b")).squared().expand(&none());
    assert_eq!(sq.to_plain(), "a^2 + b^2 + 2*a*b");
}

// ---------------------------------------------------------------- evaluation

fn relu_direct(k11: f64, k12: f64, k22: f64) -> f64 {
    let r = (k11 * k22).sqrt();
    let theta = (k12 / r).clamp(-1.0, 1.0).acos();
    r / (2.0 * std::f64::consts::PI) * (theta.sin() + (std::f64::consts::PI - theta) * theta.cos())
}

#[test]
fn relu_closed_form_evaluates_to_the_direct_formula() {
    let e = relu_t();
    let n = e.normalize(&none());
    for (k11, k12, k22) in [
        (1.0, 0.3, 2.0),
        (2.5, -1.1, 0.7),
        (1.0, 0.999, 1.0),
        (4.0, 0.0, 9.0),
    ] {
        let env = SimpleEnv::new()
            .with_param(Param::k(1, 1), k11)
            .with_param(Param::k(1, 2), k12)
            .with_param(Param::k(2, 2), k22);
        let want = relu_direct(k11, k12, k22);
        assert!((e.eval(&env).unwrap() - want).abs() <= 1e-15 * want.abs().max(1.0));
        assert!((n.eval(&env).unwrap() - want).abs() <= 1e-15 * want.abs().max(1.0));
    }
}

#[test]
fn erf_matches_reference_values() {
    // erf at points in each branch of the approximation (values from tables of erf).
    for (x, want) in [
        (0.0, 0.0),
        (1e-10, 1.1283791670955126e-10),
        (0.5, 0.5204998778130465),
        (1.0, 0.8427007929497149),
        (2.0, 0.9953222650189527),
        (3.0, 0.9999779095030014),
        (-1.5, -0.9661051464753108),
        (7.0, 1.0),
    ] {
        assert!(
            (erf(x) - want).abs() <= 2e-16,
            "erf({x}) = {} ≠ {want}",
            erf(x)
        );
    }
}

/// A periodic 1-D grid of n sites: sites 0..n, sums wrap.
fn wrap(n: i64) -> impl Fn(usize, &IndexValue) -> Option<IndexValue> {
    move |_, v| match v {
        IndexValue::Point(x) => Some(IndexValue::Point(
            x.iter().map(|c| c.rem_euclid(n)).collect(),
        )),
        other => Some(other.clone()),
    }
}

fn site(v: &IndexValue) -> usize {
    match v {
        IndexValue::Point(x) => x[0] as usize,
        _ => panic!("not a point"),
    }
}

#[test]
fn three_tap_average_on_a_small_array() {
    // M is a 5×5 array; A[M][p,p'] = (1/3) Σ_{δ∈{-1,0,1}} M[p+δ, p'+δ] with wrap-around.
    let m: Vec<Vec<f64>> = (0..5)
        .map(|i| {
            (0..5)
                .map(|j| (i * 7 + j * 3) as f64 * 0.25 - 1.0)
                .collect()
        })
        .collect();
    let e = Expr::mean(
        IndexVar::delta(),
        IndexSet::Filter,
        KernelSym::nngp(0).at(pv() + dv(), pp() + dv()).into(),
    );
    let env = SimpleEnv::new()
        .with_set(
            IndexSet::Filter,
            vec![
                IndexValue::point1(-1),
                IndexValue::point1(0),
                IndexValue::point1(1),
            ],
        )
        .with_resolve(wrap(5))
        .with_kernel(|at| at.sites.as_ref().map(|(a, b)| m[site(a)][site(b)]));
    for (i, j) in [(0usize, 2usize), (4, 4), (3, 0)] {
        let mut scope = Scope::new();
        scope.bind(IndexVar::p(), IndexValue::point1(i as i64));
        scope.bind(IndexVar::p().prime(), IndexValue::point1(j as i64));
        let got = e.eval_in(&env, &mut scope).unwrap();
        let want = (m[(i + 4) % 5][(j + 4) % 5] + m[i][j] + m[(i + 1) % 5][(j + 1) % 5]) / 3.0;
        assert!((got - want).abs() < 1e-15, "{got} vs {want}");
    }
    // a free index without a binding is an error, not a panic
    assert!(e.eval(&env).is_err());
}

/// The network conv(3 taps, circular) → ReLU → global average pool on 1-D signals of 5
/// samples with one channel, written as a derivation.
fn cnn_derivation() -> Derivation {
    let (p, q) = (pv(), pp());
    let k = |l| KernelSym::nngp(l);
    let t = |l| KernelSym::ntk(l);
    let mut d = Derivation::new();
    let avg = |s: KernelSym| {
        Expr::mean(
            IndexVar::delta(),
            IndexSet::Filter,
            s.at(pv() + dv(), pp() + dv()).into(),
        )
    };
    d.define(
        k(1).at(p.clone(), q.clone()),
        sw2() * avg(k(0)) + sb2(),
        1,
        "conv, circular",
    )
    .unwrap();
    d.define(
        t(1).at(p.clone(), q.clone()),
        sw2() * avg(t(0)) + k(1).at(p.clone(), q.clone()),
        1,
        "conv, circular",
    )
    .unwrap();
    let args = || {
        (
            Expr::from(k(1).at(pv(), pv()).with_args(Arg::x(), Arg::x())),
            Expr::from(k(1).at(pv(), pp())),
            Expr::from(
                k(1).at(pp(), pp())
                    .with_args(Arg::x_prime(), Arg::x_prime()),
            ),
        )
    };
    let (a, b, c) = args();
    d.define(
        k(2).at(p.clone(), q.clone()),
        Expr::dual("ReLU", a, b, c),
        2,
        "ReLU",
    )
    .unwrap();
    let (a, b, c) = args();
    d.define(
        t(2).at(p.clone(), q.clone()),
        Expr::dual_dot("ReLU", a, b, c) * t(1).at(p.clone(), q.clone()),
        2,
        "ReLU",
    )
    .unwrap();
    let pool = |s: KernelSym| {
        Expr::mean(
            IndexVar::p(),
            IndexSet::Sites,
            Expr::mean(
                IndexVar::p().prime(),
                IndexSet::Sites,
                s.at(pv(), pp()).into(),
            ),
        )
    };
    d.define(k(3), pool(k(2)), 3, "global_avg_pool").unwrap();
    d.define(t(3), pool(t(2)), 3, "global_avg_pool").unwrap();
    d
}

#[test]
fn derivation_evaluates_like_a_direct_computation() {
    let x = [0.3, -1.2, 0.8, 0.1, 2.0];
    let y = [-0.5, 0.4, 1.1, -0.9, 0.2];
    let (sw, sb) = (1.3, 0.2);
    let n = 5usize;
    let pts: Vec<IndexValue> = (0..n as i64).map(IndexValue::point1).collect();
    let pts2 = pts.clone();
    let env = SimpleEnv::new()
        .with_param(Param::sigma_w(), sw)
        .with_param(Param::sigma_b(), sb)
        .with_set(IndexSet::Filter, (-1..=1).map(IndexValue::point1).collect())
        .with_set(IndexSet::Sites, pts.clone())
        .with_sites(move |_| Some(pts2.clone()))
        .with_resolve(wrap(n as i64))
        .with_kernel(|at| {
            // only the input kernel comes from here: K⁰ = x[s] x'[s'] (one channel), Θ⁰ = 0
            if at.layer != 0 {
                return None;
            }
            let ex = |e: Example| if e == Example::X { &x } else { &y };
            let (a, b) = at.sites.as_ref()?;
            Some(match at.kind {
                KernelKind::Nngp => ex(at.args.0.example)[site(a)] * ex(at.args.1.example)[site(b)],
                KernelKind::Ntk => 0.0,
            })
        })
        .with_dual(|f, k11, k12, k22| {
            let r = (k11 * k22).sqrt();
            let theta = (k12 / r).clamp(-1.0, 1.0).acos();
            (f.phi == "ReLU").then(|| {
                if f.derivative {
                    (std::f64::consts::PI - theta) / (2.0 * std::f64::consts::PI)
                } else {
                    relu_direct(k11, k12, k22)
                }
            })
        });
    let table = cnn_derivation().evaluate(&env).unwrap();

    // direct computation, written out independently
    let conv = |u: &[f64; 5], v: &[f64; 5], i: usize, j: usize| {
        let s: f64 = (0..3)
            .map(|t| u[(i + 4 + t) % 5] * v[(j + 4 + t) % 5])
            .sum();
        sw * sw * s / 3.0 + sb * sb
    };
    let (mut k3, mut t3) = (0.0, 0.0);
    for i in 0..n {
        for j in 0..n {
            let (k11, k12, k22) = (conv(&x, &x, i, i), conv(&x, &y, i, j), conv(&y, &y, j, j));
            let theta = (k12 / (k11 * k22).sqrt()).clamp(-1.0, 1.0).acos();
            k3 += relu_direct(k11, k12, k22) / 25.0;
            t3 += (std::f64::consts::PI - theta) / (2.0 * std::f64::consts::PI) * k12 / 25.0;
        }
    }
    let key = |kind, a, b| KernelAt {
        layer: 3,
        kind,
        tag: None,
        args: (
            ArgValue {
                example: a,
                transform: None,
            },
            ArgValue {
                example: b,
                transform: None,
            },
        ),
        sites: None,
    };
    let got_k = table
        .get(&key(KernelKind::Nngp, Example::X, Example::XPrime))
        .unwrap();
    let got_t = table
        .get(&key(KernelKind::Ntk, Example::X, Example::XPrime))
        .unwrap();
    assert!((got_k - k3).abs() <= 1e-14 * k3.abs(), "{got_k} vs {k3}");
    assert!((got_t - t3).abs() <= 1e-14 * t3.abs(), "{got_t} vs {t3}");
    // the self-covariance of x' is there too: conv(y, y) at (2, 2)
    let self_y = KernelAt {
        layer: 1,
        sites: Some((IndexValue::point1(2), IndexValue::point1(2))),
        ..key(KernelKind::Nngp, Example::XPrime, Example::XPrime)
    };
    assert!((table.get(&self_y).unwrap() - conv(&y, &y, 2, 2)).abs() < 1e-15);
}

#[test]
fn lifting_on_the_circle_and_orbit_average() {
    // C_5 acting on 5 samples by shifts; full-support lifting:
    // K¹[g,g'](x,x') = (1/|F|) Σ_{δ∈F} K⁰[A_g δ, A_g' δ](x,x'), F = all 5 sites.
    let n = 5usize;
    let x = [1.0, -0.5, 0.25, 2.0, -1.0];
    let y = [0.5, 0.5, -2.0, 1.0, 0.75];
    let lift = Expr::mean(
        IndexVar::delta(),
        IndexSet::Filter,
        KernelSym::nngp(0)
            .at(Index::act(gv(), dv()), Index::act(gp(), dv()))
            .into(),
    );
    let elems: Vec<IndexValue> = (0..n).map(IndexValue::Elem).collect();
    let env = SimpleEnv::new()
        .with_group(CayleyTable::cyclic(n).unwrap())
        .with_set(
            IndexSet::Filter,
            (0..n as i64).map(IndexValue::point1).collect(),
        )
        .with_set(IndexSet::Group, elems)
        .with_resolve(wrap(n as i64))
        .with_kernel(|at| {
            // the MLP-like kernel k(x, ρ(g) x') = ⟨x, ρ(g) x'⟩ / n, (ρ(g)x')[s] = x'[s - g]
            let shift = |a: &ArgValue| match &a.transform {
                Some(IndexValue::Elem(g)) => *g,
                _ => 0,
            };
            match &at.sites {
                Some((a, b)) => Some(x[site(a)] * y[site(b)]),
                None => {
                    let g = shift(&at.args.1);
                    Some((0..n).map(|s| x[s] * y[(s + n - g) % n]).sum::<f64>() / n as f64)
                }
            }
        });
    for (g, h) in [(0usize, 0usize), (1, 3), (4, 2)] {
        let mut scope = Scope::new();
        scope.bind(IndexVar::g(), IndexValue::Elem(g));
        scope.bind(IndexVar::g().prime(), IndexValue::Elem(h));
        let got = lift.eval_in(&env, &mut scope).unwrap();
        let want: f64 = (0..n).map(|d| x[(d + g) % n] * y[(d + h) % n]).sum::<f64>() / n as f64;
        assert!((got - want).abs() < 1e-15);
        // group product and inverse in an index: g h⁻¹ of C_5 is g − h mod 5
        let gh = (gv() * gp().inv()).eval(&env, &scope).unwrap();
        assert_eq!(gh, IndexValue::Elem((g + n - h) % n));
    }
    // (1/|G|) Σ_g k(x, ρ(g) x') = (1/n²) (Σ x)(Σ x')
    let avg = Expr::mean(
        IndexVar::g(),
        IndexSet::Group,
        KernelSym::nngp(1)
            .with_args(Arg::x(), Arg::x_prime().transformed(IndexVar::g()))
            .into(),
    );
    let want = x.iter().sum::<f64>() * y.iter().sum::<f64>() / (n * n) as f64;
    assert!((avg.eval(&env).unwrap() - want).abs() < 1e-15);
}

#[test]
fn evaluation_errors_are_reported() {
    let env = SimpleEnv::new();
    assert!(Expr::from(Param::sigma_w()).eval(&env).is_err());
    assert!(Expr::card(IndexSet::Group).eval(&env).is_err());
    assert!(Expr::dual("ReLU", 1.0.into(), 0.5.into(), 1.0.into())
        .eval(&env)
        .is_err());
    let gh = gv() * gp();
    let mut scope = Scope::new();
    scope.bind(IndexVar::g(), IndexValue::Elem(0));
    scope.bind(IndexVar::g().prime(), IndexValue::Elem(1));
    assert!(gh.eval(&env, &scope).is_err());
    assert!(CayleyTable::new(vec![vec![0, 1], vec![0, 1]], |_, p: &[i64]| p.to_vec()).is_err());
    let mut d = Derivation::new();
    let bad = KernelSym::nngp(1).at(pv() + dv(), pp());
    assert!(d.define(bad, Expr::num(1.0), 1, "").is_err());
}

// ---------------------------------------------------------------- derivations

#[test]
fn inlining_substitutes_definitions() {
    let mut d = Derivation::new();
    let k = KernelSym::nngp;
    d.define(
        k(1).at(pv(), pp()),
        sw2() * Expr::from(k(0).at(pv(), pp())) + sb2(),
        1,
        "dense",
    )
    .unwrap();
    d.define(
        k(2).at(pv(), pp()),
        sw2() * Expr::from(k(1).at(pv(), pp())) + sb2(),
        2,
        "dense",
    )
    .unwrap();
    // instantiation renames indices simultaneously and maps the examples
    let sym = k(2)
        .at(pp(), pv())
        .with_args(Arg::x_prime(), Arg::x_prime());
    assert_eq!(
        d.inline(&sym.into()).expand(&none()).to_plain(),
        "sigma_w^4*K0[p',p](x',x') + sigma_b^2 + sigma_b^2*sigma_w^2"
    );
    // pair patterns (g, p) bind componentwise
    let mut gd = Derivation::new();
    let site = |g: Index, p: Index| Index::pair(g, p);
    gd.define(
        k(1).at(site(gv(), pv()), site(gp(), pp())),
        Expr::from(k(0).at(pv() + Index::act(gv(), dv()), pp())),
        1,
        "",
    )
    .unwrap();
    let h: Index = IndexVar::h().into();
    let at = k(1).at(site(gv() * h.clone(), pv()), site(gp() * h, pp()));
    assert_eq!(
        gd.inline(&at.into()).to_plain(),
        "K0[p+A_(g*h)(d),p'](x,x')"
    );
    // substituting into a sum renames a bound variable that would capture
    let mut c = Derivation::new();
    let body = KernelSym::nngp(0).at(pv() + dv(), pp() + dv());
    c.define(
        k(1).at(pv(), pp()),
        Expr::sum(IndexVar::delta(), IndexSet::Filter, body.into()),
        1,
        "",
    )
    .unwrap();
    let shifted = k(1).at(pv() + dv(), pp() + dv());
    assert_eq!(
        c.inline(&shifted.into()).to_plain(),
        "sum_{d' in F} K0[p+d+d',p'+d+d'](x,x')"
    );
}

#[test]
fn derivation_snapshot() {
    let d = cnn_derivation().normalize(&none());
    let text = format!(
        "{}\n{}\n{}",
        d.render(Format::Latex),
        d.render(Format::Unicode),
        d.render(Format::Plain)
    );
    assert_eq!(d.render(Format::Plain), d.clone().render(Format::Plain));
    insta::assert_snapshot!("cnn_derivation", text);
}

#[test]
fn identity_activations_and_zero_bias_vanish() {
    // dense → identity → dense without bias: K⁴ = σ_w⁴ K⁰ and Θ⁴ = 2 σ_w⁴ K⁰
    // (Θ¹ = K¹ = σ_w² K⁰; Θ² = Ṫ Θ¹ = Θ¹; Θ³ = σ_w² Θ² + K³ = 2 σ_w⁴ K⁰).
    let mut d = Derivation::new();
    let (k, t) = (KernelSym::nngp, KernelSym::ntk);
    let dense = |l: usize| sw2() * Expr::from(k(l)) + sb2();
    d.define(k(1), dense(0), 1, "dense").unwrap();
    d.define(t(1), sw2() * Expr::from(t(0)) + k(1), 1, "dense")
        .unwrap();
    let [a, b, c] = KernelSym::dual_args_unindexed(1).map(Expr::from);
    d.define(
        k(2),
        Expr::dual("id", a.clone(), b.clone(), c.clone()),
        2,
        "identity",
    )
    .unwrap();
    d.define(t(2), Expr::dual_dot("id", a, b, c) * t(1), 2, "identity")
        .unwrap();
    d.define(k(3), dense(2), 3, "dense").unwrap();
    d.define(t(3), sw2() * Expr::from(t(2)) + k(3), 3, "dense")
        .unwrap();
    let identity = |f: &DualFn| {
        (f.phi == "id").then(|| {
            if f.derivative {
                Expr::num(1.0)
            } else {
                Param::k(1, 2).into()
            }
        })
    };
    let d = d.map_rhs(|e| e.substitute_duals(&identity));
    assert_eq!(d.definitions()[2].rhs.to_plain(), "K1(x,x')");
    let no_bias = Assumptions::new().with_zero(Param::sigma_b());
    // Θ⁰ = 0 for the input
    let no_input_ntk = |e: &Expr| {
        e.substitute_kernels(&|s| (s.kind == KernelKind::Ntk && s.layer == 0).then(|| 0.0.into()))
    };
    let k3 = no_input_ntk(&d.inline(&k(3).into())).expand(&no_bias);
    let t3 = no_input_ntk(&d.inline(&t(3).into())).expand(&no_bias);
    assert_eq!(k3.to_plain(), "sigma_w^4*K0(x,x')");
    assert_eq!(t3.to_plain(), "2*sigma_w^4*K0(x,x')");
    // the polynomial with bias: Θ³ = 2σ_w⁴ K⁰ + 2σ_w² σ_b² + σ_b²  (all terms by hand)
    let t3b = no_input_ntk(&d.inline(&t(3).into())).expand(&none());
    let want =
        (2.0 * sw2().powi(2) * KernelSym::nngp(0) + 2.0 * sw2() * sb2() + sb2()).normalize(&none());
    assert_eq!(t3b, want);
}

#[test]
fn normal_form_and_expansion_preserve_values() {
    // every rewrite of the normal form is an identity: values before and after agree
    let env = SimpleEnv::new()
        .with_param(Param::named("a"), 0.7)
        .with_param(Param::named("b"), 1.9)
        .with_param(Param::named("c"), -0.4)
        .with_param(Param::sigma_w(), 1.3)
        .with_param(Param::sigma_b(), 0.2)
        .with_param(Param::k(1, 1), 1.5)
        .with_param(Param::k(1, 2), 0.6)
        .with_param(Param::k(2, 2), 0.9)
        .with_set(IndexSet::Filter, (-1..=1).map(IndexValue::point1).collect())
        .with_kernel(|at| {
            let (s, t) = at
                .sites
                .as_ref()
                .map_or((0, 0), |(a, b)| (site_any(a), site_any(b)));
            Some(1.0 + 0.3 * s as f64 - 0.2 * t as f64 + 0.05 * (s * t) as f64)
        })
        .with_dual(|f, a, b, c| Some(a + 2.0 * b + 3.0 * c + f64::from(f.derivative)));
    let mut scope = Scope::new();
    scope.bind(IndexVar::p(), IndexValue::point1(2));
    scope.bind(IndexVar::p().prime(), IndexValue::point1(5));
    for e in samples() {
        let want = e.eval_in(&env, &mut scope.clone()).unwrap();
        for got in [e.normalize(&none()), e.expand(&none())] {
            let v = got.eval_in(&env, &mut scope.clone()).unwrap();
            assert!(
                (v - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{e} → {got}: {v} vs {want}"
            );
        }
    }
}

fn site_any(v: &IndexValue) -> i64 {
    match v {
        IndexValue::Point(x) => x[0],
        _ => 0,
    }
}
