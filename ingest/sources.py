"""Sources: which config to read, and how to split its sources into work units.

An Airflow run maps one task over each unit; the CLI runs them all in one pass.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ingest.config import Config, load_config
from ingest.errors import ConfigError

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


def plan_batches(names: list[str], max_units: int = 32) -> list[list[str]]:
    """Split source names into at most ``max_units`` batches of near-equal size:
    one source per unit while there are few, groups when there are many."""
    if not names:
        return []
    per_unit = math.ceil(len(names) / max_units)
    return [names[i : i + per_unit] for i in range(0, len(names), per_unit)]
