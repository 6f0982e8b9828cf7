"""Batches that could not reach the warehouse, kept on disk until a pass can load them.

When the warehouse stays away longer than a pass waits for it, the records already
fetched, extracted and validated are not thrown away: each batch is written to
``$NEWS_INGEST_HOME/spool/<warehouse>/`` (one file, written whole or not at all),
and the next pass against that warehouse loads them before anything else, so
those pages are not fetched again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg

from ingest import db, load, rawstore
from ingest.models import Article, Rejection
from ingest.rawstore import RawStore

log = logging.getLogger(__name__)


@dataclass
class SpooledBatch:
    run_id: str
    valid: list[Article] = field(default_factory=list)
    raws: list[rawstore.RawPage] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def directory(home: Path, dsn: str) -> Path:
    """The spool of one warehouse (test warehouses, or two DSNs, never mix)."""
    key = hashlib.sha256(db.redact(dsn).encode()).hexdigest()[:12]
    return home / "spool" / key


def save(folder: Path, batch: SpooledBatch) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{batch.run_id}-{secrets.token_hex(4)}"
    tmp = folder / f".{name}.tmp"
    with tmp.open("wb") as out:
        pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
        os.fsync(out.fileno())
    path = folder / f"{name}.batch"
    tmp.rename(path)
    return path


def replay(conn: psycopg.Connection[Any], folder: Path, window: timedelta,
           raw_store: RawStore | None = None) -> int:
    """Load every spooled batch (under the run that fetched it); returns the records
    loaded. A file goes once its batch is committed; a crash in between loads it
    again, which changes nothing (loads are idempotent)."""
    from ingest.rejections import record_rejections

    loaded = 0
    for path in sorted(folder.glob("*.batch")) if folder.is_dir() else []:
        with path.open("rb") as source:
            batch: SpooledBatch = pickle.load(source)  # our own file, written by save()
        load.load_batch(conn, batch.run_id, batch.valid, batch.raws, story_window=window,
                        store=raw_store)
        record_rejections(conn, batch.run_id, batch.rejections)
        path.unlink()
        loaded += len(batch.valid)
        log.warning("loaded %d record(s) spooled by run %s while the warehouse was away",
                    len(batch.valid), batch.run_id)
    return loaded


def pending(folder: Path) -> int:
    return len(list(folder.glob("*.batch"))) if folder.is_dir() else 0
