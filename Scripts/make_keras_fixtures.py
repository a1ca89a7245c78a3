#!/usr/bin/env python3
"""Makes the Keras fixtures of `acol import keras` (Fixtures/keras/), with Keras itself.

Run twice, once per Keras generation (the tests never run Python):

    python3 -m venv .venv-keras && .venv-keras/bin/pip install keras numpy jax h5py
    KERAS_BACKEND=jax .venv-keras/bin/python Scripts/make_keras_fixtures.py          # -> Fixtures/keras/k3/
    python3 -m venv .venv-tf && .venv-tf/bin/pip install tensorflow-cpu==2.15.1
    .venv-tf/bin/python Scripts/make_keras_fixtures.py --keras2                       # -> Fixtures/keras/k2/

The models are tiny, LALNets-style ACOL networks (ozcell/LALNets, written for Keras 1/2): a body,
the head Dense with n_p x k linear nodes, an optional Dropout, a softmax, and the pooling layer,
either `AcolPooling` (a custom layer class holding a frozen [n_p x k, n_p] 0/1 matrix, written here
after the authors' `AveragePooling`) or a frozen Dense without bias holding that matrix. Their
weights are drawn from a fixed seed (no training: the import is a copy of weights, and random
weights exercise it as well as trained ones); BatchNormalization statistics are random too.

For every model it writes, with Keras 3: NAME.keras, NAME.h5 (legacy full model), NAME.weights.h5
and NAME.json (model.to_json()); with Keras 2 (tf.keras 2.15): NAME.h5 and NAME_weights.h5 with
NAME.json. And expected.json: per model, the node -> parent assignment, the raw pixel inputs
(0-255) and Keras's outputs on them (logits = the head Dense, clusters = its softmax, parents =
the pooling layer), computed on x = pixel / 255.
"""
import argparse
import json
import os
import sys

import numpy as np

KERAS2 = "--keras2" in sys.argv
if KERAS2:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    keras = tf.keras
    layers = tf.keras.layers
    register = tf.keras.utils.register_keras_serializable
else:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    from keras import layers
    register = keras.saving.register_keras_serializable


@register(package="lalnets")
class AcolPooling(layers.Layer):
    """Sum of the softmax nodes of each parent: y = x W with a frozen 0/1 matrix W [n, n_p]."""

    def __init__(self, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.output_dim = output_dim

    def build(self, input_shape):
        self.W = self.add_weight(name="W", shape=(int(input_shape[-1]), self.output_dim),
                                 initializer="zeros", trainable=False)
        super().build(input_shape)

    def call(self, x):
        return keras.ops.matmul(x, self.W) if not KERAS2 else tf.matmul(x, self.W)

    def get_config(self):
        c = super().get_config()
        c["output_dim"] = self.output_dim
        return c


def matrix(parents_of_nodes, n_p):
    m = np.zeros((len(parents_of_nodes), n_p), dtype=np.float32)
    for j, p in enumerate(parents_of_nodes):
        m[j, p] = 1
    return m


def cnn_interleaved():
    """Conv/BN/pool body, head BN, 2 parents x 3, AcolPooling, interleaved (node j -> j mod 2)."""
    n_p, k = 2, 3
    x = keras.Input(shape=(8, 8, 1), name="pixels")
    m = keras.Sequential(name="cnn_interleaved")
    m.add(x)
    m.add(layers.Conv2D(3, 3, padding="same", activation="relu", name="conv_a"))
    m.add(layers.BatchNormalization(name="bn_a"))
    m.add(layers.MaxPooling2D(2, name="pool_a"))
    m.add(layers.Conv2D(4, 3, padding="valid", name="conv_b"))
    m.add(layers.Activation("relu", name="relu_b"))
    m.add(layers.Flatten(name="flat"))
    m.add(layers.Dropout(0.2, name="drop_a"))
    m.add(layers.Dense(6, activation="relu", kernel_constraint=keras.constraints.MaxNorm(3), name="fc"))
    m.add(layers.BatchNormalization(name="bn_head"))
    m.add(layers.Dense(n_p * k, name="L-1"))
    m.add(layers.Dropout(0.5, name="drop_head"))
    m.add(layers.Activation("softmax", name="L-1_activation"))
    m.add(AcolPooling(n_p, name="AcolPooling"))
    return m, [j % n_p for j in range(n_p * k)], n_p


def mlp_grouped():
    """Functional chain, 3 parents x 2 grouped (node j -> j div 2), frozen Dense pooling."""
    n_p, k = 3, 2
    inp = keras.Input(shape=(6, 6, 1), name="pixels")
    h = layers.Flatten(name="flat")(inp)
    h = layers.Dense(5, activation="relu", name="fc")(h)
    z = layers.Dense(n_p * k, name="L-1")(h)
    s = layers.Softmax(name="softmax")(z)
    pool = layers.Dense(n_p, use_bias=False, trainable=False, name="pool")
    y = pool(s)
    m = keras.Model(inp, y, name="mlp_grouped")
    return m, [j // k for j in range(n_p * k)], n_p


def mlp_uneven():
    """Sequential, 3-channel input, Dense with softmax, AcolPooling, 3 + 2 nodes in a mixed order."""
    parents = [1, 0, 0, 1, 0]
    m = keras.Sequential(name="mlp_uneven")
    m.add(keras.Input(shape=(4, 4, 3)))
    m.add(layers.Flatten(name="flat"))
    m.add(layers.Dense(len(parents), activation="softmax", name="head"))
    m.add(AcolPooling(2, name="AcolPooling"))
    return m, parents, 2


def unsupported_gap():
    m = keras.Sequential(name="unsupported_gap")
    m.add(keras.Input(shape=(6, 6, 1)))
    m.add(layers.Conv2D(2, 3, padding="same", activation="relu", name="conv"))
    m.add(layers.GlobalAveragePooling2D(name="gap"))
    m.add(layers.Dense(4, activation="softmax", name="head"))
    m.add(AcolPooling(2, name="AcolPooling"))
    return m, [0, 1, 0, 1], 2


def fill(model, parents, n_p, rng):
    """Random weights from `rng`; the pooling matrix from `parents`; BN stats plausible."""
    pool = model.layers[-1]
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        if layer is pool:
            layer.set_weights([matrix(parents, n_p)])
            continue
        new = []
        for w in ws:
            new.append(rng.normal(0, 0.5, size=w.shape).astype(np.float32))
        if isinstance(layer, layers.BatchNormalization):
            new[0] = rng.uniform(0.5, 1.5, size=ws[0].shape).astype(np.float32)    # gamma
            new[3] = rng.uniform(0.5, 2.0, size=ws[3].shape).astype(np.float32)    # variance
        layer.set_weights(new)


def outputs(model, pixels):
    x = pixels.astype(np.float32) / 255.0
    pool = model.layers[-1]
    prev = model.layers[-2]          # the softmax (or the head Dense with a softmax)
    head = next(l for l in reversed(model.layers[:-1]) if isinstance(l, layers.Dense))
    sub = keras.Model(model.inputs, [head.output, prev.output, pool.output])
    logits, clusters, par = sub.predict(x, verbose=0)
    if head is prev:                 # Dense(activation="softmax"): logits before the softmax
        w, b = head.get_weights()
        feats = keras.Model(model.inputs, head.input).predict(x, verbose=0)
        logits = feats @ w + b
    return logits, clusters, par


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keras2", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "keras",
                                   "k2" if args.keras2 else "k3")
    os.makedirs(out, exist_ok=True)
    expected = {"keras_version": (tf.__version__ if KERAS2 else keras.__version__), "scale": 1 / 255.0, "models": {}}
    for i, make in enumerate([cnn_interleaved, mlp_grouped, mlp_uneven, unsupported_gap]):
        model, parents, n_p = make()
        rng = np.random.default_rng(13 + i)
        fill(model, parents, n_p, rng)
        name = make.__name__
        base = os.path.join(out, name)
        with open(base + ".json", "w") as f:
            f.write(model.to_json())
        if args.keras2:
            model.save(base + ".h5", save_format="h5")
            model.save_weights(base + "_weights.h5", save_format="h5")
        else:
            model.save(base + ".keras")
            model.save(base + ".h5")
            model.save_weights(base + ".weights.h5")
        if name.startswith("unsupported"):
            continue
        shape = model.inputs[0].shape[1:]
        pixels = rng.integers(0, 256, size=(4,) + tuple(int(d) for d in shape)).astype(np.uint8)
        logits, clusters, par = outputs(model, pixels)
        expected["models"][name] = {
            "node_parents": parents, "parents": n_p, "shape": [int(d) for d in shape],
            "pixels": pixels.reshape(len(pixels), -1).astype(int).tolist(),
            "logits": np.asarray(logits, dtype=np.float64).tolist(),
            "clusters": np.asarray(clusters, dtype=np.float64).tolist(),
            "parent_probs": np.asarray(par, dtype=np.float64).tolist(),
        }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print("wrote", out, sorted(os.listdir(out)))


if __name__ == "__main__":
    main()
