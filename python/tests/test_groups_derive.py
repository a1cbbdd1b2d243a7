"""Groups, derivations, claim files and network files from Python, against the command line
and against representation theory."""

import json
import math

import numpy as np
import pytest

import eqntk
from conftest import ROOT, assert_close
from eqntk import groups, stax


@pytest.mark.parametrize("g,order", [("C5", 5), ("D4", 8), ("D6", 12), ("p4:3", 36), ("O", 24)])
def test_character_tables(cli, g, order):
    t = groups.character_table(g)
    assert t.order == order
    # Σ dim² = |G|, the identity column holds the dimensions, rows are orthonormal
    assert int(np.sum(t.dims ** 2)) == order
    assert_close(np.real(t.values[:, 0]), t.dims, rtol=1e-12)
    assert t.orthogonality_error() < 1e-10
    assert t.class_sizes.sum() == order
    # the same table as `eqntk group table G --format json`
    cli_json = json.loads(cli.run("group", "table", g, "--format", "json").stdout)
    assert cli_json == t.to_dict()
    assert t._repr_markdown_() == cli.run("group", "table", g, "--format", "markdown").stdout
    assert t._repr_latex_().startswith("$$") and "\\begin{array}" in t._repr_latex_()


def test_d4_by_hand():
    t = groups.character_table("D4")
    # D4 (order 8) has four 1-d irreps and one 2-d irrep; χ_E(r) = 0, χ_E(r²) = −2
    assert sorted(t.dims.tolist()) == [1, 1, 1, 1, 2]
    e = t.irreps[int(np.argmax(t.dims))]
    assert t[e, "r"] == 0 and t[e, "r^2"] == -2


def test_decompose_regular_and_image():
    # the regular representation holds every irrep ψ dim(ψ) times
    m = groups.multiplicities("D6", "regular")
    t = groups.character_table("D6")
    assert m == {name: int(d) for name, d in zip(t.irreps, t.dims)}
    # C4 on 3×3 images: the permutation character is 9 at e and 1 (the centre) at r, r², r³,
    # so m_k = (9 + ω^{-k} + ω^{-2k} + ω^{-3k}) / 4 with ω = i
    m = groups.multiplicities("C4", "image:3")
    w = 1j
    want = [round(((9 + w ** -k + w ** (-2 * k) + w ** (-3 * k)) / 4).real) for k in range(4)]
    assert [m[f"chi_{k}"] for k in range(4)] == want == [3, 2, 2, 2]


def test_group_check():
    r = groups.check("D5")
    assert r.ok and all(c["passed"] for c in r["checks"])


def test_derive_matches_cli_and_renders(cli, tmp_path):
    layer = stax.serial(stax.Dense(512, 1.5, 0.1), stax.Relu(), stax.Dense(1, 1.5, 0.1))
    path = tmp_path / "mlp.toml"
    eqntk.network.write(path, layer, (3,))
    for fmt in ("text", "latex", "markdown"):
        d = eqntk.derive(layer, (3,), format=fmt)
        assert str(d) == cli.run("derive", "--net", path, "--format", fmt).stdout.replace(
            "Kernel recursion of `mlp`", "Kernel recursion of `network`")
    d = eqntk.derive(layer, (3,), format="latex")
    assert d._repr_latex_().startswith("$$") and "\\sigma" in d._repr_latex_()
    assert "K" in d


def test_verify_claim_file(tmp_path):
    src = ROOT / "derivations" / "formula_linear.toml"
    text = src.read_text()
    claims = tmp_path / "formula_linear.toml"
    claims.write_text(text)
    r = eqntk.verify(claims)
    assert r.ok, r.table
    assert "formula_linear.toml" in r.table and (tmp_path / "formula_linear.md").exists()
    # a claim that does not hold: the NNGP coefficient 4.41 = 1.5²·0.7²·2² changed to 4.42
    bad = tmp_path / "bad.toml"
    assert "4.41*K0(x,x')" in text
    bad.write_text(text.replace("4.41*K0(x,x')", "4.42*K0(x,x')"))
    r = eqntk.verify(bad)
    assert not r.ok and not bool(r)
    assert "fail" in r.table.lower()


def test_network_files_round_trip(cli, rng, tmp_path):
    layer = stax.serial(stax.Conv(8, (3, 3), (2, 2), "SAME", 1.5, 0.1), stax.Relu(),
                        stax.FanOut(2), stax.parallel(stax.Dense(4), stax.Identity()),
                        stax.FanInSum(), stax.GlobalAvgPool(), stax.Dense(1))
    path = tmp_path / "net.toml"
    eqntk.network.write(path, layer, (-1, 6, 6, 2), name="net")
    net = eqntk.network.read(path)
    assert net.input_shape == (6, 6, 2) and net.domain == "image"
    x = rng.normal(size=(3, 6, 6, 2))
    k = net.kernel_fn(x)
    np.testing.assert_array_equal(k.ntk, layer[2](x, None, "ntk"))
    nngp, ntk = cli.kernel(path.read_text(), x)
    assert_close(k.ntk, ntk, rtol=1e-12)
    # the shipped example networks read as they are
    resnet = eqntk.network.read(ROOT / "examples" / "wide_resnet.toml")
    xr = np.load(ROOT / "examples" / "resnet_x.npy")
    assert abs(resnet.kernel_fn(xr, None, "nngp")[0, 0] - 23.364276334) < 1e-8


def test_finite_networks_monte_carlo(rng):
    """The mean of f(x) f(x')ᵀ over sampled finite networks is the NNGP (within 5 standard
    errors plus the O(1/width) bias)."""
    layer = stax.serial(stax.Dense(256, 1.5, 0.2), stax.Relu(), stax.Dense(1, 1.5, 0.2))
    init_fn, apply_fn, kernel_fn = layer
    x = rng.normal(size=(3, 4))
    samples = []
    for seed in range(300):
        out_shape, params = init_fn(seed, (-1, 4))
        f = apply_fn(params, x)
        samples.append(np.outer(f[:, 0], f[:, 0]))
    assert out_shape == (-1, 1) and f.shape == (3, 1)
    s = np.array(samples)
    mean, se = s.mean(0), s.std(0) / math.sqrt(len(s))
    nngp = kernel_fn(x, None, "nngp")
    assert np.all(np.abs(mean - nngp) <= 5 * se + 0.05 * np.abs(nngp)), (mean, nngp, se)
    # parameters are a function of the key: same key, same network
    _, p1 = init_fn(7, (-1, 4))
    _, p2 = init_fn(7, (-1, 4))
    np.testing.assert_array_equal(apply_fn(p1, x), apply_fn(p2, x))
