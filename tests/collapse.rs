//! The Result A collapse (MATH.md §7) produced by the rewrite rules, on a C_n G-CNN written as
//! a derivation: full-support lifting, ReLU, group convolution, ReLU, group pooling.

use eqntk::symbolic::{
    collapse_derivation, Arg, Definition, Derivation, Expr, Format, Index, IndexSet, IndexVar,
    KernelSym, LiftingFacts, Param,
};

fn g() -> Index {
    IndexVar::g().into()
}
fn gp() -> Index {
    IndexVar::g().prime().into()
}
fn d() -> Index {
    IndexVar::delta().into()
}
fn h() -> Index {
    IndexVar::h().into()
}
fn sq(p: Param) -> Expr {
    Expr::from(p).squared()
}

fn gcnn() -> Derivation {
    let mut der = Derivation::new();
    let k = |l| KernelSym::nngp(l);
    let t = |l| KernelSym::ntk(l);
    let lift = Expr::mean(
        IndexVar::delta(),
        IndexSet::Filter,
        k(0).at(Index::act(g(), d()), Index::act(gp(), d())).into(),
    );
    let mut def = |name: KernelSym, rhs: Expr, layer: usize, note: &str| {
        der.push(Definition {
            name,
            rhs,
            layer,
            note: note.into(),
        })
        .unwrap()
    };
    def(
        k(1).at(g(), gp()),
        sq(Param::sigma_w()) * lift + sq(Param::sigma_b()),
        1,
        "lift",
    );
    def(t(1).at(g(), gp()), k(1).at(g(), gp()).into(), 1, "lift");
    let relu = |l: usize| {
        let [a, b, c] = KernelSym::dual_args(l, g(), gp());
        (
            Expr::dual("ReLU", a.clone().into(), b.clone().into(), c.clone().into()),
            Expr::dual_dot("ReLU", a.into(), b.into(), c.into()),
        )
    };
    let (tt, td) = relu(1);
    def(k(2).at(g(), gp()), tt, 2, "relu");
    def(t(2).at(g(), gp()), td * t(1).at(g(), gp()), 2, "relu");
    let gconv = |m: KernelSym| {
        Expr::mean(
            IndexVar::h(),
            IndexSet::Support,
            m.at(g() * h(), gp() * h()).into(),
        )
    };
    def(
        k(3).at(g(), gp()),
        sq(Param::sigma_w()) * gconv(k(2)) + sq(Param::sigma_b()),
        3,
        "group_conv",
    );
    def(
        t(3).at(g(), gp()),
        sq(Param::sigma_w()) * gconv(t(2)) + k(3).at(g(), gp()),
        3,
        "group_conv",
    );
    let pool = |m: KernelSym| {
        Expr::mean(
            IndexVar::g(),
            IndexSet::Group,
            Expr::mean(
                IndexVar::g().prime(),
                IndexSet::Group,
                m.at(g(), gp()).into(),
            ),
        )
    };
    def(k(4), pool(k(3)), 4, "group_pool");
    def(t(4), pool(t(3)), 4, "group_pool");
    der
}

#[test]
fn full_support_lifting_collapses_to_the_orbit_average() {
    let facts = LiftingFacts {
        group: "C5".into(),
        full_support: true,
        orthogonal: true,
    };
    let c = collapse_derivation(&gcnn(), &facts, "MLP").unwrap();
    let defs = c.definitions();
    // lifting: the input kernel at the transformed argument, summed over all sites
    assert_eq!(
        defs[0].rhs.to_plain(),
        "(sigma_w^2/|Omega|)*sum_{d in Omega} K0[d,d](x,rho(g*g'^-1)x') + sigma_b^2"
    );
    // the group convolution averages identical terms
    assert_eq!(
        defs[4].rhs.to_plain(),
        "sigma_w^2*K2_MLP(x,rho(g*g'^-1)x') + sigma_b^2"
    );
    // the end: Θ_GCNN = (1/|G|) Σ_g Θ_MLP(x, ρ(g) x')
    let last = defs.last().unwrap();
    let want = Expr::mean(
        IndexVar::g(),
        IndexSet::Group,
        KernelSym::ntk(3)
            .tagged("MLP")
            .with_args(Arg::x(), Arg::x_prime().transformed(IndexVar::g()))
            .into(),
    )
    .normalize(&Default::default());
    assert_eq!(last.rhs, want);
    assert_eq!(
        format!(
            "{} = {}",
            last.name.render(Format::Unicode),
            last.rhs.to_unicode()
        ),
        "Θ⁽⁴⁾_GCNN(x,x′) = (1/|G|) Σ_{g∈G} Θ⁽³⁾_MLP(x,ρ(g)x′)"
    );
    insta::assert_snapshot!("result_a_collapse_cn", c.render(Format::Unicode));
}

#[test]
fn a_local_lifting_filter_stops_the_collapse() {
    let facts = LiftingFacts {
        group: "C5".into(),
        full_support: false,
        orthogonal: true,
    };
    let e = collapse_derivation(&gcnn(), &facts, "MLP").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("does not apply: layer 1 (lift): the lifting filter of C5 is local"),
        "{msg}"
    );
    let facts = LiftingFacts {
        group: "X".into(),
        full_support: true,
        orthogonal: false,
    };
    let msg = collapse_derivation(&gcnn(), &facts, "MLP")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("not orthogonal"), "{msg}");
}

#[test]
fn a_pooling_over_other_words_does_not_collapse() {
    // Σ_g Σ_g' f(g'⁻¹ g) is not a function of g g'⁻¹ for a non-abelian reading
    let f = KernelSym::nngp(1)
        .tagged("MLP")
        .with_args(Arg::x(), Arg::x_prime().transformed(gp().inv() * g()));
    let e = Expr::mean(
        IndexVar::g(),
        IndexSet::Group,
        Expr::mean(IndexVar::g().prime(), IndexSet::Group, f.into()),
    )
    .normalize(&Default::default());
    let msg = eqntk::symbolic::collapse_pool(&e).unwrap_err().to_string();
    assert!(msg.contains("otherwise than through"), "{msg}");
    // the word reduction itself
    use eqntk::symbolic::reduce_word;
    assert_eq!(
        reduce_word(&((g() * h()) * (gp() * h()).inv())),
        Some(g() * gp().inv())
    );
    assert_eq!(reduce_word(&(g() * g().inv())), None);
}

/// Rule 1 preserves values: the lifting before and after, evaluated for C5 acting on 5 samples
/// by shifts (`A_g δ = δ + g`, `(ρ(h)x)[s] = x[s − h]`).
#[test]
fn the_lifting_rule_preserves_values() {
    use eqntk::symbolic::{ArgValue, CayleyTable, Example, IndexValue, Scope, SimpleEnv};
    let n = 5usize;
    let x = [1.0, -0.5, 0.25, 2.0, -1.0];
    let y = [0.5, 0.5, -2.0, 1.0, 0.75];
    let facts = LiftingFacts {
        group: "C5".into(),
        full_support: true,
        orthogonal: true,
    };
    let before = gcnn().definitions()[0].rhs.clone();
    let after = eqntk::symbolic::collapse_lifting(&before, &facts).unwrap();
    let pts: Vec<IndexValue> = (0..n as i64).map(IndexValue::point1).collect();
    let site = |v: &IndexValue| match v {
        IndexValue::Point(p) => p[0] as usize,
        _ => unreachable!(),
    };
    let ex = move |a: &ArgValue, s: usize| {
        let v = if a.example == Example::X { &x } else { &y };
        let shift = match &a.transform {
            Some(IndexValue::Elem(h)) => *h,
            _ => 0,
        };
        v[(s + n - shift) % n]
    };
    let env = SimpleEnv::new()
        .with_group(CayleyTable::cyclic(n).unwrap())
        .with_param(Param::sigma_w(), 1.3)
        .with_param(Param::sigma_b(), 0.2)
        .with_set(IndexSet::Filter, pts.clone())
        .with_set(IndexSet::Sites, pts)
        .with_resolve(move |_, p| match p {
            IndexValue::Point(v) => Some(IndexValue::Point(vec![v[0].rem_euclid(n as i64)])),
            o => Some(o.clone()),
        })
        .with_kernel(move |at| {
            let (a, b) = at.sites.as_ref()?;
            Some(ex(&at.args.0, site(a)) * ex(&at.args.1, site(b)))
        });
    for (g, h) in [(0usize, 0usize), (1, 3), (4, 2), (2, 2)] {
        let mut scope = Scope::new();
        scope.bind(IndexVar::g(), IndexValue::Elem(g));
        scope.bind(IndexVar::g().prime(), IndexValue::Elem(h));
        let b = before.eval_in(&env, &mut scope).unwrap();
        let a = after.eval_in(&env, &mut scope).unwrap();
        assert!((a - b).abs() < 1e-14, "g = {g}, g' = {h}: {a} vs {b}");
    }
}

/// `(1/|G|) Σ_g Θ⁽ˡ⁾_MLP(x, ρ(g) x′)`: the pooled NTK the collapse should end with.
fn orbit_averaged_ntk(l: usize) -> Expr {
    Expr::mean(
        IndexVar::g(),
        IndexSet::Group,
        KernelSym::ntk(l)
            .tagged("MLP")
            .with_args(Arg::x(), Arg::x_prime().transformed(IndexVar::g()))
            .into(),
    )
    .normalize(&Default::default())
}

/// A C5 G-CNN read from TOML with the given lifting filter.
fn c5_gcnn(filter: &str) -> eqntk::Network {
    let w = "w_std = 1.3\nb_std = 0.2\n";
    let toml = format!(
        "[input]\nshape = [5, 2]\n[[layers]]\nkind = 'lift'\ngroup = 'C5'\nfilter = {filter}\n{w}\
         [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'group_conv'\nsupport = [0, 2]\n{w}\
         [[layers]]\nkind = 'erf'\n[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{w}"
    );
    eqntk::Network::from_toml_str(&toml, "gcnn.toml").unwrap()
}

#[test]
fn the_collapse_of_a_real_network_reads_the_lifting_layer() {
    use eqntk::symbolic::{collapse_network, derive_network, lifting_facts};
    let net = c5_gcnn("'full'");
    let facts = lifting_facts(&net).unwrap();
    assert!(facts.full_support && facts.orthogonal, "{facts:?}");
    let c = collapse_network(&net, &derive_network(&net).unwrap()).unwrap();
    // through the pooling (layer 5) and the dense readout (layer 6, affine)
    let last = c.definitions().last().unwrap();
    assert_eq!(last.layer, 6);
    assert_eq!(last.rhs, orbit_averaged_ntk(5));
    assert_eq!(
        last.name.render(Format::Unicode),
        KernelSym::ntk(6).tagged("GCNN").render(Format::Unicode)
    );
    // the group convolution over H = {0, 2} averaged identical terms
    let gconv = c.definitions().iter().find(|d| d.layer == 3).unwrap();
    assert_eq!(
        gconv.rhs.to_plain(),
        "sigma_w3^2*K2_MLP(x,rho(g*g'^-1)x') + sigma_b3^2"
    );
}

#[test]
fn a_local_lifting_filter_on_a_real_network_does_not_collapse() {
    use eqntk::symbolic::{collapse_network, derive_network, lifting_facts};
    let net = c5_gcnn("[3]");
    assert!(!lifting_facts(&net).unwrap().full_support);
    let e = collapse_network(&net, &derive_network(&net).unwrap()).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("does not apply: layer 1"), "{text}");
    assert!(text.contains("local (F ≠ Ω)"), "{text}");
    // the shipped document of Result A for C_n prints both outcomes
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("derivations/result_a_cn.md"),
    )
    .unwrap();
    assert!(doc.contains("so that `Θ⁽⁶⁾_GCNN(x,x′) = (1/|G|) Σ_{g∈G} Θ⁽⁵⁾_MLP(x,ρ(g)x′)`"));
    assert!(doc.contains("The collapse does not apply: layer 1 (lift to C6, F = 3 window"));
}

#[test]
fn networks_without_a_finite_lifting_do_not_collapse() {
    use eqntk::symbolic::lifting_facts;
    let so2 = eqntk::Network::from_toml_str(
        "[input]\nshape = [3, 2]\n[[layers]]\nkind = 'lift'\ngroup = 'SO2'\nfilter = 'full'\n\
         [[layers]]\nkind = 'group_pool'\n",
        "so2.toml",
    )
    .unwrap();
    assert!(lifting_facts(&so2).unwrap_err().0.contains("continuous"));
    let mlp = eqntk::Network::from_toml_str(
        "[input]\nshape = [3]\n[[layers]]\nkind = 'dense'\nw_std = 1.0\n",
        "mlp.toml",
    )
    .unwrap();
    assert!(lifting_facts(&mlp).unwrap_err().0.contains("lifting"));
}

#[test]
fn a_nonlinearity_after_pooling_stops_the_collapse() {
    use eqntk::symbolic::{collapse_network, derive_network};
    let net = eqntk::Network::from_toml_str(
        "[input]\nshape = [4, 1]\n[[layers]]\nkind = 'lift'\ngroup = 'C4'\nfilter = 'full'\n\
         w_std = 1.0\n[[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'relu'\n",
        "net.toml",
    )
    .unwrap();
    let e = collapse_network(&net, &derive_network(&net).unwrap()).unwrap_err();
    assert!(e.0.contains("nonlinear layer after the pooling"), "{e}");
}

/// The collapse reads a residual block's opened layers like any other: the combination
/// `K⁽⁴⁾[g,g′] = K⁽²⁾[g,g′] + K⁽³⁾[g,g′]` is affine in kernels that are functions of `g g′⁻¹`,
/// so rule 2 rewrites it to the plain network's `K⁽²⁾ + K⁽³⁾` at `ρ(g g′⁻¹)x′`, and the pooled
/// NTK is the orbit average of the plain residual network's.
#[test]
fn residual_blocks_collapse_like_their_layers() {
    use eqntk::symbolic::{collapse_network, derive_network};
    let w = "w_std = 1.3\nb_std = 0.2\n";
    let toml = format!(
        "[input]\nshape = [5, 2]\n[[layers]]\nkind = 'lift'\ngroup = 'C5'\nfilter = 'full'\n{w}\
         [[layers]]\nkind = 'relu'\n[[layers]]\nkind = 'residual'\n\
         block = [{{ kind = 'group_conv', w_std = 1.1 }}]\n\
         [[layers]]\nkind = 'group_pool'\n[[layers]]\nkind = 'dense'\n{w}"
    );
    let net = eqntk::Network::from_toml_str(&toml, "gcnn.toml").unwrap();
    let c = collapse_network(&net, &derive_network(&net).unwrap()).unwrap();
    let sum = c.definitions().iter().find(|d| d.layer == 4).unwrap();
    assert_eq!(
        sum.rhs.to_plain(),
        "K2_MLP(x,rho(g*g'^-1)x') + K3_MLP(x,rho(g*g'^-1)x')",
        "{}",
        c.render(Format::Plain)
    );
    let last = c.definitions().last().unwrap();
    assert_eq!(last.layer, 6);
    assert_eq!(last.rhs, orbit_averaged_ntk(5));
}
