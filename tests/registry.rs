//! Every registered layer kind, checked three ways on its own example network: the derivation
//! interpreted (no fast kernel code) = the fast kernel, and the Monte-Carlo mean of finite
//! networks = the fast kernel within the library's agreement rule (z = 5 standard errors plus
//! the O(1/width) bias allowance). A new kind is covered by adding its registry line.

use crate::common;

use common::{assert_close, normal_batch};
use eqntk::finite::{monte_carlo_outputs, Agreement};
use eqntk::layer::REGISTRY;
use eqntk::symbolic::{derive_network, evaluate_network};
use eqntk::{Batch, Network};

/// Each kind name with its example network.
fn examples() -> Vec<(&'static str, Network)> {
    REGISTRY
        .iter()
        .flat_map(|r| r.kinds.iter().map(move |&k| (k, (r.example)(k))))
        .map(|(kind, toml)| {
            let net = Network::from_toml_str(&toml, &format!("example of {kind}"))
                .unwrap_or_else(|e| panic!("the example of {kind} does not parse: {e}"));
            assert!(
                net.layers().iter().any(|l| l.kind() == kind),
                "the example of {kind} does not use it"
            );
            (kind, net)
        })
        .collect()
}

/// Two examples and one more, so that x1 ≠ x2 and diagonal entries are both checked.
fn inputs(net: &Network, seed: u64) -> (Batch, Batch) {
    let shape = net.input_shape();
    (
        normal_batch(shape, 2, seed),
        normal_batch(shape, 1, seed ^ 0xbeef),
    )
}

#[test]
fn every_kind_has_an_example_and_a_unique_name() {
    let all = examples();
    let mut names: Vec<_> = all.iter().map(|(k, _)| *k).collect();
    let n = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "a kind name is registered twice");
    assert!(n >= 18, "the registry lists {n} kinds");
}

#[test]
fn every_kind_derivation_equals_the_fast_kernel() {
    for (kind, net) in examples() {
        let (x1, x2) = inputs(&net, 7);
        let deriv = derive_network(&net).unwrap();
        for x2 in [None, Some(&x2)] {
            let (k, t) = evaluate_network(&net, &deriv, &x1, x2).unwrap();
            let fast = net.kernel(&x1, x2).unwrap();
            assert_close(&k, &fast.nngp().unwrap(), 1e-12, &format!("{kind} nngp"));
            assert_close(&t, &fast.ntk().unwrap(), 1e-12, &format!("{kind} ntk"));
        }
    }
}

#[test]
fn every_kind_fast_kernel_equals_the_finite_network_mean() {
    let (width, samples) = (64, 300);
    for (i, (kind, net)) in examples().into_iter().enumerate() {
        let (x1, x2) = inputs(&net, 11 + i as u64);
        let x = Batch::new(x1.shape().to_vec(), [x1.values(), x2.values()].concat()).unwrap();
        let k = net.kernel(&x, None).unwrap();
        let mc = monte_carlo_outputs(&net, &x, None, width, 16, samples, 1000 * i as u64).unwrap();
        let verdict = Agreement::default().check(&mc, &k.nngp().unwrap(), &k.ntk().unwrap(), width);
        if let Err(d) = verdict {
            panic!("{kind}: {d} (width {width}, {samples} networks)");
        }
    }
}

/// The agreement rule has the power to reject a wrong kernel at these widths and sample
/// counts: on the lifting example it accepts the NTK and rejects `Θ + K/2`.
#[test]
fn the_agreement_rule_rejects_a_doubled_ntk() {
    let (_, net) = examples().into_iter().find(|(k, _)| *k == "lift").unwrap();
    let (x1, _) = inputs(&net, 3);
    let k = net.kernel(&x1, None).unwrap();
    let mc = monte_carlo_outputs(&net, &x1, None, 64, 16, 300, 5).unwrap();
    let ntk = k.ntk().unwrap();
    let wrong = &ntk + &k.nngp().unwrap() * faer::Scale(0.5);
    assert!(Agreement::default()
        .check(&mc, &k.nngp().unwrap(), &ntk, 64)
        .is_ok());
    assert!(Agreement::default()
        .check(&mc, &k.nngp().unwrap(), &wrong, 64)
        .is_err());
}
