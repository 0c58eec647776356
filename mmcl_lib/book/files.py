"""Safe writes for results files: a reader never sees a half-written table, JSON file or figure.

Every file is written to a temporary file in the same folder and then moved into place with
``os.replace``, which is atomic on one file system: the destination holds either its previous
content or the complete new one, never a truncated mix, even when the writer is interrupted
(Ctrl-C, an exception, a killed process). Used by ``experiments/reproduce_unpaired.py`` (Chapter 5's
recorded results) and ``benchmarks/`` (``RESULTS.md`` and its figures).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it onto ``path``, on error delete it.

    Whatever the body writes to the yielded path (``fig.savefig(tmp)``, ``np.save(tmp, ...)``)
    appears at ``path`` only once the body has finished without an exception. The temporary file
    keeps the destination's suffix, so writers that infer the format from it (matplotlib) still do.
    A new file gets the permissions a plain ``open(path, "w")`` would give it (umask respected);
    an existing file keeps its permissions.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"path must name a file, got the folder {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if path.exists():
            mode = path.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_atomic(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` (text or bytes) to ``path`` through a temporary file and ``os.replace``.

    The data are flushed to disk before the move, so after a crash the file holds the old or the
    new content in full. Returns ``path`` as a ``Path``.
    """
    if not isinstance(data, (str, bytes)):
        raise ValueError(f"data must be str or bytes, got {type(data).__name__}")
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


@contextlib.contextmanager
def saving_figure(path: str | os.PathLike) -> Iterator[Path]:
    """Context manager for matplotlib: ``with saving_figure(p) as tmp: fig.savefig(tmp, dpi=110)``.

    Same guarantee as :func:`write_atomic`: ``p`` is replaced only by a completely written figure.
    """
    with atomic_path(path) as tmp:
        yield tmp


def savefig_atomic(fig, path: str | os.PathLike, **kwargs) -> Path:
    """``fig.savefig(path, **kwargs)`` through a temporary file in the same folder (see :func:`saving_figure`)."""
    with saving_figure(path) as tmp:
        fig.savefig(tmp, **kwargs)
    return Path(path)
