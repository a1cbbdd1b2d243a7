use eqntk::{Batch, Network};

#[test]
fn one_dense_layer_is_the_scaled_gram_matrix() {
    let net = Network::from_toml_str(
        "[input]\nshape=[3]\n[[layers]]\nkind='dense'\nw_std=1.5\nb_std=0.1\n",
        "t.toml",
    )
    .unwrap();
    let x = Batch::new(vec![3], vec![1.0, 2.0, 3.0, -1.0, 0.5, 2.0]).unwrap();
    let k = net.kernel(&x, None).unwrap();
    let nngp = k.nngp().unwrap();
    let ntk = k.ntk().unwrap();
    let dot = (-1.0 + 1.0 + 6.0) / 3.0;
    let want = 2.25 * dot + 0.01;
    assert!((nngp[(0, 1)] - want).abs() < 1e-14);
    assert!((nngp[(1, 0)] - want).abs() < 1e-14);
    assert!((ntk[(0, 1)] - want).abs() < 1e-14);
}

#[test]
fn cnn_runs() {
    let net = Network::from_toml_str(
        "[input]\nshape=[4,4,1]\n[[layers]]\nkind='conv'\nfilter=[3,3]\n[[layers]]\nkind='relu'\n[[layers]]\nkind='global_avg_pool'\n[[layers]]\nkind='dense'\n",
        "t.toml",
    )
    .unwrap();
    let vals: Vec<f64> = (0..48).map(|i| ((i * 7 % 11) as f64 - 5.0) / 3.0).collect();
    let x = Batch::new(vec![4, 4, 1], vals).unwrap();
    let k = net.kernel(&x, None).unwrap();
    let k2 = net.kernel(&x, Some(&x)).unwrap();
    let (a, b) = (k.nngp().unwrap(), k2.nngp().unwrap());
    let (c, d) = (k.ntk().unwrap(), k2.ntk().unwrap());
    for i in 0..3 {
        for j in 0..3 {
            assert!((a[(i, j)] - b[(i, j)]).abs() < 1e-13);
            assert!((c[(i, j)] - d[(i, j)]).abs() < 1e-13);
        }
    }
}
