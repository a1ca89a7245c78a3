#!/usr/bin/env python3
"""Writes Fixtures/keras/bad/: damaged copies of the committed Keras fixtures, made with h5py
alone (no Keras needed), for the importer's refusals (Tests/ACOLHDF5Tests/KerasImportTests.swift):

  nan_fc.h5      k3/mlp_grouped.h5 with a NaN in layer 'fc''s kernel
  inf_head.h5    k3/mlp_grouped.h5 with an Inf in the head layer 'L-1''s bias
  negvar_bn.h5   k3/cnn_interleaved.h5 with a negative moving variance in layer 'bn_a'

Run from the repository root:  python3 Scripts/make_keras_bad_fixtures.py
"""
import os
import shutil

import h5py
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "keras")
OUT = os.path.join(ROOT, "bad")


def damaged(source, name, dataset, index, value):
    path = os.path.join(OUT, name)
    shutil.copyfile(os.path.join(ROOT, source), path)
    with h5py.File(path, "r+") as f:
        d = f[dataset]
        v = d[()]
        v.flat[index] = value
        d[...] = v
    print(name, os.path.getsize(path), "bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    damaged("k3/mlp_grouped.h5", "nan_fc.h5", "model_weights/fc/fc/kernel", 7, np.nan)
    damaged("k3/mlp_grouped.h5", "inf_head.h5", "model_weights/L-1/L-1/bias", 2, np.inf)
    damaged("k3/cnn_interleaved.h5", "negvar_bn.h5", "model_weights/bn_a/cnn_interleaved/bn_a/moving_variance", 1, -5.0)


if __name__ == "__main__":
    main()
