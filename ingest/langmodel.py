"""The language model (py3langid), loaded in a tenth of the time.

py3langid ships its model LZMA-compressed: every process that loads it spends about
0.4 s decompressing 68 MB, and every Airflow ingest task starts a new forkserver
that would pay it before its first page. The first load keeps the decompressed
file in ``$NEWS_INGEST_HOME/cache`` (its name carries the library's version and
the packaged model's size and time, so an upgrade makes a new one); later loads
read that file, with NumPy and no pickle, in about 0.05 s. Anything unexpected
(no writable home, a damaged copy) falls back to py3langid's own loading.
"""

from __future__ import annotations

import contextlib
import logging
import lzma
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def load(cache_dir: Path | None = None) -> None:
    """Make py3langid's module-level identifier (what ``py3langid.classify`` uses)
    ready, from the decompressed copy when it can."""
    from py3langid import langid

    if langid.IDENTIFIER is not None:
        return
    try:
        langid.IDENTIFIER = _from_copy(cache_dir or _cache_dir())
    except Exception as exc:  # the library's own way is always there
        log.debug("language model copy not used: %s", exc)
        langid.IDENTIFIER = langid._load_identifier()


def _cache_dir() -> Path:
    from ingest.config import Environment

    return Environment().home / "cache"


def _from_copy(cache_dir: Path) -> Any:
    import numpy as np
    from py3langid import __version__, langid
    from py3langid.modelio import _to_array

    packaged = langid.MODEL_DIR / langid.MODEL_FILE
    stat = packaged.stat()
    copy = cache_dir / f"py3langid-{__version__}-{stat.st_size}-{int(stat.st_mtime)}.npz"
    if not copy.exists():
        _decompress(packaged, copy)
    with np.load(copy, allow_pickle=False) as data:  # the same arrays py3langid reads
        return langid.LanguageIdentifier(
            np.asarray(data["ptc"]), np.asarray(data["pc"]), data["classes"].tolist(),
            _to_array(data["nextmove"]), data["out_feat"].tolist(),
            tk_row=_to_array(data["nextmove_row"]),
        )


def _decompress(packaged: Path, copy: Path) -> None:
    """The packaged model, decompressed, written whole or not at all."""
    copy.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=copy.parent, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out, lzma.open(packaged) as source:
            shutil.copyfileobj(source, out, length=1 << 20)
        os.replace(partial, copy)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
