"""Shared fixtures: the `eqntk` command-line binary (the independent path every Python result
is compared with) and seeded inputs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _binary():
    env = os.environ.get("EQNTK_BIN")
    if env:
        return Path(env)
    for profile in ("debug", "release"):
        p = ROOT / "target" / profile / "eqntk"
        if p.exists():
            return p
    return None


@pytest.fixture(scope="session")
def eqntk_bin():
    b = _binary()
    assert b is not None and b.exists(), (
        "the eqntk binary is needed (cargo build, or EQNTK_BIN=/path/to/eqntk)"
    )
    return b


class Cli:
    def __init__(self, binary, tmp):
        self.binary, self.tmp = binary, tmp
        self.n = 0

    def file(self, name, text):
        p = self.tmp / name
        p.write_text(text)
        return p

    def array(self, a):
        self.n += 1
        p = self.tmp / f"a{self.n}.npy"
        np.save(p, np.asarray(a, dtype=np.float64))
        return p

    def run(self, *args, check=True):
        r = subprocess.run([str(self.binary), *map(str, args)], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"eqntk {' '.join(map(str, args))} failed: {r.stderr}")
        return r

    def kernel(self, toml, x1, x2=None, *extra):
        net = self.file(f"net{self.n}.toml", toml)
        args = ["kernel", "--net", net, "--x1", self.array(x1), "--format", "json", *extra]
        if x2 is not None:
            args[5:5] = ["--x2", self.array(x2)]
        out = json.loads(self.run(*args).stdout)
        return np.array(out["nngp"]), np.array(out["ntk"])


@pytest.fixture
def cli(eqntk_bin, tmp_path):
    return Cli(eqntk_bin, tmp_path)


@pytest.fixture
def rng():
    return np.random.default_rng(20261204)


def assert_close(a, b, rtol=1e-12, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} != {b.shape}"
    scale = max(np.max(np.abs(b)), 1e-300)
    err = np.max(np.abs(a - b)) / scale
    assert err <= rtol, f"{what}: relative discrepancy {err:.3e} > {rtol:.0e}"
