"""Train the bundled sample model and export it as plain numpy arrays.

The sample `score.py` classifies iris flowers (scikit-learn's bundled copy of Fisher's iris data) with a
StandardScaler followed by a multinomial LogisticRegression. The fitted parameters are written to
`models/iris-classifier/1/iris_model.npz` with `np.savez`, not pickled:

* portable: an `.npz` of numeric and unicode arrays loads with `allow_pickle=False` on any numpy version, so the
  artefact carries no pickled code and no scikit-learn version coupling;
* no scikit-learn at serving time: inference is `softmax(((x - mean) / scale) @ coef.T + intercept)`, which the
  entry script computes with numpy alone, so scikit-learn stays a development dependency;
* reproducible: fixed split and solver seeds, so rerunning this script gives the same parameters and accuracy
  (and, as `np.savez` stamps every zip entry 1980-01-01, the same file bytes on the same library versions).

Run from anywhere: `python scripts/train_sample_model.py`. Paths are relative to this file, not the cwd.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_PATH = REPO_ROOT / "models" / "iris-classifier" / "1" / "iris_model.npz"

#: Request column names for sklearn's "sepal length (cm)" etc., in the dataset's column order.
FEATURE_NAMES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
RANDOM_STATE = 42
TEST_SIZE = 0.3


def train() -> tuple[Pipeline, float, np.ndarray, list[str]]:
    """Fit scaler + logistic regression on a stratified split.

    Returns the model, its held-out accuracy, the held-out rows and the class names.
    """
    iris = load_iris()
    features = np.asarray(iris.data, dtype=np.float64)
    target = np.asarray(iris.target)
    if len(iris.feature_names) != len(FEATURE_NAMES):
        raise RuntimeError(f"unexpected iris columns: {iris.feature_names}")

    x_train, x_test, y_train, y_test = train_test_split(
        features, target, test_size=TEST_SIZE, stratify=target, random_state=RANDOM_STATE
    )
    # With the lbfgs solver and more than two classes, LogisticRegression fits a multinomial (softmax) model.
    model = Pipeline(
        [
            ("scaler", StandardScaler()),
            ("classifier", LogisticRegression(solver="lbfgs", max_iter=1000, random_state=RANDOM_STATE)),
        ]
    )
    model.fit(x_train, y_train)
    accuracy = float(model.score(x_test, y_test))
    return model, accuracy, x_test, [str(name) for name in iris.target_names]


def numpy_probabilities(arrays: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """The serving-time computation, as `score.py` does it: standardise, linear scores, softmax."""
    scores = ((rows - arrays["scaler_mean"]) / arrays["scaler_scale"]) @ arrays["coef"].T + arrays["intercept"]
    scores -= scores.max(axis=1, keepdims=True)
    exp = np.exp(scores)
    return exp / exp.sum(axis=1, keepdims=True)


def export(model: Pipeline, class_names: list[str], path: Path) -> dict[str, np.ndarray]:
    """Write the fitted parameters to `path` as an `.npz` that needs no pickle to load."""
    scaler: StandardScaler = model.named_steps["scaler"]
    classifier: LogisticRegression = model.named_steps["classifier"]
    arrays = {
        "scaler_mean": np.asarray(scaler.mean_, dtype=np.float64),
        "scaler_scale": np.asarray(scaler.scale_, dtype=np.float64),
        "coef": np.asarray(classifier.coef_, dtype=np.float64),
        "intercept": np.asarray(classifier.intercept_, dtype=np.float64),
        "feature_names": np.array(FEATURE_NAMES, dtype=np.str_),
        "class_names": np.array([class_names[int(label)] for label in classifier.classes_], dtype=np.str_),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help=f"where to write (default: {MODEL_PATH})")
    out: Path = parser.parse_args().out
    model, accuracy, x_test, class_names = train()
    arrays = export(model, class_names, out)

    # Check the exported file reproduces scikit-learn's answers without scikit-learn.
    with np.load(out, allow_pickle=False) as saved:
        loaded = {name: saved[name] for name in saved.files}
    for name, array in arrays.items():
        if not np.array_equal(loaded[name], array):
            raise RuntimeError(f"{name} did not round-trip through {out}")
    if not np.allclose(numpy_probabilities(loaded, x_test), model.predict_proba(x_test), rtol=0, atol=1e-12):
        raise RuntimeError("numpy inference disagrees with scikit-learn's predict_proba")

    print(f"held-out accuracy: {accuracy:.4f} ({len(x_test)} test rows, test_size={TEST_SIZE})")
    print(f"classes: {', '.join(loaded['class_names'])}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
