"""A linear SVM in numpy: the per-user model behind "For you".

arxiv-sanity-lite ranks a user's papers with scikit-learn's ``LinearSVC(C=0.1,
class_weight="balanced")`` trained on the user's tagged papers (positives) against every
other paper (negatives). This is the same model without scikit-learn: liblinear's
default L2-regularised, squared-hinge ("L2-SVM") primal problem with a regularised bias
(``intercept_scaling=1``) and balanced class weights,

    f(w) = 1/2 |w|^2 + C * sum_i c_i * max(0, 1 - y_i w.x_i)^2,    x_i = (features, 1)
    c_i  = n / (2 n_{y_i}) * s_i                                   (balanced weights)

where ``s_i`` is an optional per-sample weight (1 by default): "For you" weights the
papers a user marked "not for me" above the unlabelled papers it also trains against.

minimised by Newton's method in the primal (O. Chapelle, "Training a Support Vector
Machine in the Primal", Neural Computation 19(5), 2007): on the set S of points inside
the margin (y_i w.x_i < 1) the objective is quadratic, so a step solves

    (I + 2C X_S^T D_S X_S) w = 2C X_S^T D_S y_S                     (D = diag(c))

and S is recomputed; a backtracking line search keeps every step a descent. The active
set settles in a handful of iterations. Each costs one |S| x d x d product, with d the
embedding size (384) plus one: milliseconds for a month of papers. The fit runs on one
BLAS thread: OpenBLAS spreads these small products over every core, and on a busy 2-core
machine its threads waiting on each other made a 628-paper fit 10x slower (1 s vs 0.1 s);
a server's workers are the parallelism.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

DEFAULT_C = 0.1  # arxiv-sanity-lite's value; bench/recommend.py compares others
MAX_ITERATIONS = 30
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class LinearModel:
    """``score(x) = weights . x + bias``; higher means more like the positives."""

    weights: NDArray[np.float64]
    bias: float
    iterations: int

    def decision(self, features: NDArray[np.floating]) -> NDArray[np.float64]:
        """The signed score of each row of ``features``."""
        return np.asarray(features, np.float64) @ self.weights + self.bias


def _objective(
    w: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    c: NDArray[np.float64],
    strength: float,
) -> float:
    margins = np.maximum(0.0, 1.0 - y * (x @ w))
    return float(0.5 * w @ w + strength * np.sum(c * margins * margins))


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def train_linear_svm(
    features: NDArray[np.floating],
    labels: NDArray[np.bool_],
    strength: float = DEFAULT_C,
    sample_weights: NDArray[np.floating] | None = None,
) -> LinearModel:
    """Fit the balanced L2-SVM above.

    Args:
        features: one row per paper (e.g. unit-length embeddings).
        labels: True for positives, False for negatives; both must occur.
        strength: the SVM's ``C`` (larger fits the positives more tightly).
        sample_weights: ``s_i`` per row (positive numbers); None for all ones.

    Returns:
        The fitted model.

    Raises:
        ValueError: a class is missing, the shapes disagree, or ``strength`` is not positive.
    """
    rows = np.asarray(features, np.float64)
    labels = np.asarray(labels, np.bool_)
    if rows.ndim != 2 or len(rows) != len(labels):
        raise ValueError(
            f"features {rows.shape} and labels {labels.shape} do not describe the same rows"
        )
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError(f"an SVM needs positives and negatives (got {positives} and {negatives})")
    if not strength > 0:
        raise ValueError(f"C {strength!r} must be positive")
    scale = np.ones(len(labels))
    if sample_weights is not None:
        scale = np.asarray(sample_weights, np.float64)
        if scale.shape != labels.shape or not bool(np.all(scale > 0)):
            raise ValueError(
                f"sample weights {scale.shape} must be one positive number per row "
                f"({len(labels)} rows)"
            )
    with _blas().limit(limits=1, user_api="blas"):
        return _newton(rows, labels, strength, positives, scale)


def _newton(
    features: NDArray[np.float64],
    labels: NDArray[np.bool_],
    strength: float,
    positives: int,
    scale: NDArray[np.float64],
) -> LinearModel:
    negatives = len(labels) - positives
    count = len(labels)
    x = np.hstack([features, np.ones((count, 1))])
    y = np.where(labels, 1.0, -1.0)
    c = np.where(labels, count / (2.0 * positives), count / (2.0 * negatives)) * scale
    w = np.zeros(x.shape[1])
    value = _objective(w, x, y, c, strength)
    iterations = 0
    for iterations in range(1, MAX_ITERATIONS + 1):  # noqa: B007 (reported below)
        active = y * (x @ w) < 1.0
        xs, ys, cs = x[active], y[active], c[active]
        hessian = np.eye(x.shape[1]) + 2.0 * strength * (xs.T * cs) @ xs
        gradient = w + 2.0 * strength * (xs.T * cs) @ (xs @ w - ys)
        if float(np.linalg.norm(gradient)) <= _TOLERANCE * max(1.0, float(np.linalg.norm(w))):
            break
        step = np.linalg.solve(hessian, -gradient)
        # Armijo backtracking: the objective is convex and piecewise quadratic, so the
        # full step is accepted almost always; halving guards the active-set changes.
        slope = float(gradient @ step)
        size = 1.0
        while True:
            candidate = w + size * step
            new_value = _objective(candidate, x, y, c, strength)
            if new_value <= value + 1e-4 * size * slope or size < 1e-8:
                break
            size /= 2.0
        improvement = value - new_value
        w, value = candidate, new_value
        if improvement <= _TOLERANCE * max(1.0, abs(value)):
            break
    return LinearModel(weights=w[:-1].copy(), bias=float(w[-1]), iterations=iterations)
