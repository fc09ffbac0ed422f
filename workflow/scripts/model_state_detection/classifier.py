"""The digit classifier whose hidden-layer activations are the "model state", and reading them out.

TensorFlow is imported inside the functions, so that the scikit-learn-only parts of the
library do not pay for its import.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .config import layer_names
from .data import N_PIXELS


def configure_tensorflow(seed: int, threads: int = 1) -> None:
    """Make TensorFlow deterministic and keep it to ``threads`` cores; reset Keras' state and seeds.

    Call before building any model: thread counts are fixed when TensorFlow's runtime starts
    (later calls in the same process keep the first call's). Calling it again before the next
    model gives that model the same initial weights and shuffles as in a fresh process.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime already started in this process: keep its settings
        pass
    keras.backend.clear_session()  # a fresh Keras state (layer names, seeds), as in a new process
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def build_classifier(hidden_units: list[int], learning_rate: float, n_classes: int = 10):
    """Dense relu layers named dense, dense_1, ... and a softmax output layer named after them."""
    import keras

    names = layer_names(hidden_units)
    layers = [keras.Input(shape=(N_PIXELS,), name="pixels")]
    layers += [keras.layers.Dense(units, activation="relu", name=name) for units, name in zip(hidden_units, names)]
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name=names[-1]))
    model = keras.Sequential(layers, name="digit_classifier")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def train_classifier(model, images: np.ndarray, digits: np.ndarray, epochs: int, batch_size: int, seed: int):
    """Fit on shuffled training images, holding out 10% of them for validation; returns the history table."""
    order = np.random.default_rng(seed).permutation(len(digits))
    history = model.fit(
        images[order],
        digits[order],
        epochs=epochs,
        batch_size=batch_size,
        validation_split=0.1,
        shuffle=True,
        verbose=2,
    )
    table = pd.DataFrame(history.history)
    table.insert(0, "epoch", np.arange(1, len(table) + 1))
    return table


def accuracy(model, images: np.ndarray, digits: np.ndarray) -> float:
    predicted = np.argmax(model.predict(images, batch_size=1024, verbose=0), axis=1)
    return float(np.mean(predicted == digits))


def load_classifier(path):
    import keras

    return keras.saving.load_model(path, safe_mode=True)


def activation_model(model, layers: list[str]):
    """A model mapping pixels to the outputs of the named layers (the seed's ``intermediate_layer_model``)."""
    import keras

    available = [layer.name for layer in model.layers]
    unknown = [name for name in layers if name not in available]
    if unknown:
        raise ValueError(f"the classifier has no layer {', '.join(unknown)}; its layers are {', '.join(available)}")
    return keras.Model(inputs=model.inputs, outputs=[model.get_layer(name).output for name in layers])


def layer_activations(model, layers: list[str], images: np.ndarray, reader=None) -> dict[str, np.ndarray]:
    """Activations of each named layer for ``images``, as float32 arrays (samples x neurons).

    ``reader``, an ``activation_model(model, layers)`` made once, saves rebuilding (and
    re-tracing) it for every batch of images.
    """
    if not layers:
        return {}
    reader = activation_model(model, layers) if reader is None else reader
    outputs = reader.predict(images, batch_size=1024, verbose=0)
    if len(layers) == 1:
        outputs = [outputs]
    return {name: np.asarray(output, dtype=np.float32) for name, output in zip(layers, outputs)}
