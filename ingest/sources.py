"""Sources: which config to read, and how to split its sources into work units.

An Airflow run maps one task over each unit; the CLI runs them all in one pass.
"""

from __future__ import annotations

import os
from pathlib import Path

from ingest.config import Config, SourceConfig, load_config
from ingest.errors import ConfigError
from ingest.resolve import site

DEFAULT_CONFIG = Path("sources.yml")


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The sources file: explicit, else ``$NEWS_INGEST_CONFIG``, else ``./sources.yml``."""
    chosen = explicit or os.environ.get("NEWS_INGEST_CONFIG") or DEFAULT_CONFIG
    path = Path(chosen)
    if not path.is_file():
        raise ConfigError(
            f"sources file {path} not found (pass --config or set NEWS_INGEST_CONFIG)"
        )
    return path


def load(explicit: str | os.PathLike[str] | None = None) -> tuple[Path, Config]:
    path = config_path(explicit)
    return path, load_config(path)


def plan_batches(sources: list[SourceConfig], max_units: int = 32) -> list[list[str]]:
    """Source names in at most ``max_units`` batches: sources of one site always
    together (per-host politeness lives in one process), one site per batch while
    there are few, sites packed into batches of near-equal size when there are many."""
    groups: dict[str, list[str]] = {}
    for source in sources:
        groups.setdefault(site(source.address), []).append(source.name)
    ordered = sorted(groups.values(), key=len, reverse=True)
    if len(ordered) <= max_units:
        return ordered
    batches: list[list[str]] = [[] for _ in range(max_units)]
    for group in ordered:  # largest first, into the emptiest batch
        min(batches, key=len).extend(group)
    return [b for b in batches if b]
