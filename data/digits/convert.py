"""Convert the UCI optical recognition of handwritten digits (the 1797-image copy that
scikit-learn ships as sklearn/datasets/data/digits.csv.gz) into the .npz data sets of eqntk.

    python convert.py path/to/digits.csv.gz

writes, beside this script:

  digits.npz          x [1797, 8, 8, 1] float64, pixel counts 0..16 divided by 16; y [1797] int64
  digits_rotated.npz  the same images, each turned by k·90° counter-clockwise (numpy.rot90)
                      with k drawn from numpy.random.default_rng(0).integers(0, 4, 1797);
                      also holds k as `turns`

Each CSV row is 64 pixel counts (row-major 8×8) and the label. Only numpy is needed.
"""
import gzip
import pathlib
import sys

import numpy as np

src = pathlib.Path(sys.argv[1])
rows = np.loadtxt(gzip.open(src, "rt"), delimiter=",")
assert rows.shape == (1797, 65), rows.shape
x = (rows[:, :64] / 16.0).reshape(1797, 8, 8, 1)
y = rows[:, 64].astype(np.int64)
here = pathlib.Path(__file__).parent
np.savez_compressed(here / "digits.npz", x=x, y=y)
turns = np.random.default_rng(0).integers(0, 4, len(x))
xr = np.stack([np.rot90(img, k, axes=(0, 1)) for img, k in zip(x, turns)])
np.savez_compressed(here / "digits_rotated.npz", x=xr, y=y, turns=turns.astype(np.int64))
print("classes", np.bincount(y), "turns", np.bincount(turns))
