"""Imported by the worker processes' forkserver (:mod:`ingest.pool`), and only there.

Importing it loads what every extraction worker needs before its first page: the
imports, the language model and what a first page loads on first use (about a
second; :func:`ingest.extract.warm_up`). Loaded once in the forkserver, they are
inherited by every worker it forks, instead of being loaded again in each of them.
"""

import contextlib

from ingest.extract import warm_up

with contextlib.suppress(Exception):  # else each worker warms up on its own (initializer)
    warm_up()
