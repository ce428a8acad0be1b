"""The numpy linear SVM: it solves liblinear's L2-SVM problem, checked by its optimality
conditions and against plain gradient descent on the same objective."""

from __future__ import annotations

import numpy as np
import pytest

from paperfeed.search.classifier import train_linear_svm


def _data(seed: int, count: int = 200, dimension: int = 16, positives: int = 8):  # type: ignore[no-untyped-def]
    generator = np.random.default_rng(seed)
    features = generator.normal(size=(count, dimension))
    direction = generator.normal(size=dimension)
    features[:positives] += 1.5 * direction / np.linalg.norm(direction)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    labels = np.zeros(count, np.bool_)
    labels[:positives] = True
    return features, labels


def _objective_and_gradient(w, features, labels, strength):  # type: ignore[no-untyped-def]
    """f(w) and its gradient, written out from the formula (bias as a last feature of 1)."""
    x = np.hstack([features, np.ones((len(features), 1))])
    y = np.where(labels, 1.0, -1.0)
    n, p = len(labels), labels.sum()
    c = np.where(labels, n / (2 * p), n / (2 * (n - p)))
    slack = np.maximum(0.0, 1.0 - y * (x @ w))
    value = 0.5 * w @ w + strength * np.sum(c * slack**2)
    gradient = w - 2.0 * strength * (x.T @ (c * slack * y))
    return value, gradient


@pytest.mark.parametrize("strength", [0.01, 0.1, 1.0, 10.0])
def test_solution_is_the_minimum(strength: float) -> None:
    features, labels = _data(1)
    model = train_linear_svm(features, labels, strength)
    w = np.append(model.weights, model.bias)
    value, gradient = _objective_and_gradient(w, features, labels, strength)
    assert np.abs(gradient).max() < 1e-6  # stationary point of a convex function
    # plain gradient descent on the same objective arrives at the same value
    v = np.zeros_like(w)
    step = 1.0 / (1.0 + 2.0 * strength * len(labels) * 2.0)
    for _ in range(5000):
        _, g = _objective_and_gradient(v, features, labels, strength)
        v -= step * g
    reference, _ = _objective_and_gradient(v, features, labels, strength)
    assert value <= reference + 1e-7
    assert model.iterations < 30


def test_positives_score_above_negatives() -> None:
    features, labels = _data(2)
    scores = train_linear_svm(features, labels).decision(features)
    assert scores[labels].min() > np.median(scores[~labels])
    order = np.argsort(-scores)
    assert labels[order[:8]].sum() >= 6


def test_bad_input_is_refused_with_the_reason() -> None:
    features, labels = _data(3)
    with pytest.raises(ValueError, match="needs positives and negatives"):
        train_linear_svm(features, np.zeros(len(labels), np.bool_))
    with pytest.raises(ValueError, match="do not describe the same rows"):
        train_linear_svm(features, labels[:-1])
    with pytest.raises(ValueError, match="C 0 must be positive"):
        train_linear_svm(features, labels, 0)
