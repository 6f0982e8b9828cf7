"""Airflow on one machine with this project's DAGs: what ``make airflow`` runs, and what
the demo and the live tests start Airflow with.

Airflow runs in child processes (``ingest`` never imports Airflow): their environment
(:func:`airflow_env`) points them at this project's DAGs and plugins and at the
warehouse (the ``news_warehouse`` connection), and :func:`stop_group` stops one with
everything it started.

Not ``airflow standalone``: its scheduler and triggerer each start a log server that
listens on every interface (``[logging] worker_log_server_port``, 8793, and
``trigger_log_server_port``, 8794; Airflow 3.3 hard-codes the host, there is no
setting for it) and it passes no flags to its components. :func:`supervise` starts the
same components (scheduler, dag-processor, triggerer, API server) with
``--skip-serve-logs``, and one log server of its own on 127.0.0.1 that serves both
ports' purpose (same machine, same log folder), each with its own log file; every
process reports its host as 127.0.0.1 (``[core] hostname_callable``), so the API
server fetches running tasks' logs over loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.config import Environment

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_DEMO_PORT = 8765
DEFAULT_LOG_PORT = 8793  # Airflow's [logging] worker_log_server_port default
LOOPBACK = "127.0.0.1"
#: Components :func:`supervise` starts: name, arguments of ``airflow``.
COMPONENTS = (
    ("scheduler", ["scheduler", "--skip-serve-logs"]),
    ("dag-processor", ["dag-processor"]),
    ("triggerer", ["triggerer", "--skip-serve-logs"]),
    ("api-server", ["api-server"]),  # host and port: AIRFLOW__API__HOST / __PORT
)
LOG_SERVER = "log-server"


#: Where the Celery setups of the tests and benchmarks find their broker.
REDIS = ("127.0.0.1", 6379)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_available(address: tuple[str, int] = REDIS) -> bool:
    """Whether a Redis answers PING at ``address``."""
    try:
        with socket.create_connection(address, timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def loopback_hostname() -> str:
    """``[core] hostname_callable`` of every component: the address the log server
    listens on (the machine's name may resolve to an address it does not)."""
    return LOOPBACK


def airflow_env(home: Path, dsn: str, config: Path) -> dict[str, str]:
    """Environment for an Airflow child process that runs this project's DAGs."""
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(dsn)
    conn = {
        "conn_type": "postgres",
        "host": info.get("host"),
        "port": int(str(info["port"])) if info.get("port") else None,
        "login": info.get("user"),
        "password": info.get("password") or None,
        "schema": info.get("dbname"),
    }
    keys = _secret_keys(home / "airflow")
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # Airflow's generated keys are 16 bytes; HS512 wants 64 (it warns otherwise).
            "AIRFLOW__API__SECRET_KEY": keys["api_secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW_CONN_NEWS_WAREHOUSE": json.dumps({k: v for k, v in conn.items() if v}),
            "NEWS_INGEST_CONFIG": str(config),
            "NEWS_INGEST_HOME": str(home),
            "NEWS_INGEST_POOL": "news_ingest",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


def _secret_keys(airflow_home: Path) -> dict[str, str]:
    """The API's signing keys, made once per Airflow home (kept: tokens outlive restarts)."""
    path = airflow_home / "news_ingest_keys.json"
    with contextlib.suppress(OSError, ValueError):
        keys = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(keys, dict) and {"api_secret_key", "jwt_secret"} <= set(keys):
            return {k: str(v) for k, v in keys.items()}
    keys = {"api_secret_key": secrets.token_urlsafe(64), "jwt_secret": secrets.token_urlsafe(64)}
    airflow_home.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(keys, out)
    return keys


def run_airflow(args: list[str], env: dict[str, str], log_path: Path) -> None:
    """Run an ``airflow`` command, its output to a log file; raise with the tail on failure."""
    from ingest.errors import IngestError

    airflow = Path(sys.executable).parent / "airflow"
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"\n$ airflow {' '.join(args)}\n")
        log.flush()
        proc = subprocess.run([str(airflow), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=PROJECT, check=False)
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        raise IngestError(
            f"airflow {args[0]} {args[1] if len(args) > 1 else ''} failed "
            f"(exit {proc.returncode}); last lines of {log_path}:\n" + "\n".join(tail)
        )


def standalone_env(home: Path, dsn: str, config: Path, port: int,
                   log_port: int | None = None) -> dict[str, str]:
    """Environment for Airflow on 127.0.0.1:``port`` (API server and UI) with its log
    server on 127.0.0.1:``log_port``, sized for a small machine (a few tasks at once,
    not Airflow's default 32)."""
    log_port = log_port or int(os.environ.get("NEWS_INGEST_AIRFLOW_LOG_PORT", DEFAULT_LOG_PORT))
    env = airflow_env(home, dsn, config)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__API__HOST": LOOPBACK,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{LOOPBACK}:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{LOOPBACK}:{port}/execution/",
        # Where the API server fetches running tasks' and triggers' logs: our one log
        # server (the components start none: --skip-serve-logs), over loopback.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(log_port),
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.loopback_hostname",
        # off by default; should someone turn it on, on loopback too
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": LOOPBACK,
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        # New DAGs arrive paused; run_standalone then unpauses (or pauses) them all.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    })
    return env


def component_log(airflow_home: Path, name: str) -> Path:
    """The output of one component :func:`supervise` started (``scheduler``, ...)."""
    return airflow_home / f"{name}.log"


def start_standalone(env: dict[str, str], log_path: Path) -> subprocess.Popen[Any]:
    """Migrate, create the ``news_ingest`` pool, and start :func:`supervise` in its own
    session (stop it with :func:`stop_group`). Its messages go to ``log_path``, each
    component's output to :func:`component_log` next to it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    run_airflow(["db", "migrate"], env, log_path)
    run_airflow(["pools", "set", "news_ingest", "4", "news-ingest ingest tasks"], env, log_path)
    with log_path.open("a", encoding="utf-8") as log:
        return subprocess.Popen(
            [sys.executable, "-m", __name__, "supervise", str(log_path.parent)], env=env,
            stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT, start_new_session=True)


def supervise(log_dir: Path) -> int:
    """Run Airflow's components and the log server until told to stop (SIGTERM) or
    until one of them exits, which stops the others. Returns 1 if one exited."""
    import signal

    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    airflow = str(Path(sys.executable).parent / "airflow")
    log_port = os.environ.get("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", str(DEFAULT_LOG_PORT))
    commands = [(name, [airflow, *args]) for name, args in COMPONENTS]
    commands.append((LOG_SERVER, [
        sys.executable, "-m", "uvicorn", "airflow.utils.serve_logs.log_server:get_app",
        "--factory", "--host", LOOPBACK, "--port", log_port, "--no-access-log",
    ]))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, argv in commands:
        path = component_log(log_dir, name)
        with path.open("ab") as out:
            procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                           cwd=PROJECT)
        _say(f"{name} started (pid {procs[name].pid}), output in {path}")
    failed: str | None = None
    while not stopping and failed is None:
        failed = next((name for name, p in procs.items() if p.poll() is not None), None)
        time.sleep(0.5)
    if failed is not None:
        tail = component_log(log_dir, failed).read_text(errors="replace").splitlines()[-20:]
        _say(f"{failed} exited with status {procs[failed].returncode}; stopping the others. "
             "Its last lines:\n" + "\n".join(tail))
    # stop_group signals the whole process group: the components got that SIGTERM too,
    # and a second one makes the triggerer "force exit". Give them time, then insist.
    deadline = time.monotonic() + (0 if failed is not None else 12)
    while time.monotonic() < deadline and any(p.poll() is None for p in procs.values()):
        time.sleep(0.2)
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 12
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _say("stopped")
    return 1 if failed is not None else 0


def _say(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} supervise: {message}", flush=True)


# --- the REST API, as the UI's admin ----------------------------------------------


def token_for(base: str, passwords: Path) -> str:
    """A JWT for ``admin`` of the simple auth manager (its generated password)."""
    password = json.loads(passwords.read_text(encoding="utf-8"))["admin"]
    request = urllib.request.Request(
        base + "/auth/token", method="POST",
        data=json.dumps({"username": "admin", "password": password}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["access_token"])


def api(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        base + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait_until_up(base: str, passwords: Path, proc: subprocess.Popen[Any],
                  timeout: float = 240) -> bool:
    """Until the API server answers and the admin's password exists; False if the
    supervisor exited (or time ran out) first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(base + "/api/v2/version", timeout=5).close()
            if passwords.is_file():
                return True
        time.sleep(1)
    return False


def activate_dags(base: str, token: str, *, paused: bool = False, timeout: float = 180
                  ) -> tuple[list[dict[str, Any]], list[str]]:
    """Wait until every file of ``dags/`` is parsed (a DAG or an import error), then
    unpause (``paused=False``) or pause every DAG of this project. Returns the DAGs as
    the API shows them, and the import errors."""
    folder = (PROJECT / "dags").resolve()
    files = {p.name for p in folder.glob("*.py") if not p.name.startswith("_")}
    deadline = time.monotonic() + timeout
    while True:
        dags = [d for d in api(base, token, "GET", "/api/v2/dags?limit=1000")["dags"]
                if Path(d["fileloc"]).resolve().parent == folder]
        errors = api(base, token, "GET", "/api/v2/importErrors?limit=1000")["import_errors"]
        parsed = {Path(d["fileloc"]).name for d in dags} | {Path(e["filename"]).name
                                                            for e in errors}
        if parsed >= files or time.monotonic() > deadline:
            break
        time.sleep(2)
    for dag in dags:
        if dag["is_paused"] != paused:
            dag.update(api(base, token, "PATCH", f"/api/v2/dags/{dag['dag_id']}",
                           {"is_paused": paused}))
    messages = [f"{e['filename']}: " + (str(e.get("stack_trace") or "").strip().splitlines()
                                         or ["?"])[-1] for e in errors]
    return sorted(dags, key=lambda d: d["dag_id"]), messages


def describe_dags(dags: list[dict[str, Any]]) -> list[str]:
    """Lines for the terminal: which DAGs are active (unpaused) and their schedule."""
    width = max((len(d["dag_id"]) for d in dags), default=0)
    lines = []
    for dag in dags:
        state = "paused" if dag["is_paused"] else "active"
        schedule = dag.get("timetable_summary") or "manual only"
        after = dag.get("next_dagrun_run_after")
        when = ""
        if after and not dag["is_paused"]:
            due = datetime.fromisoformat(after.replace("Z", "+00:00"))
            when = (", next run now" if due <= datetime.now(UTC)
                    else f", next run {due:%Y-%m-%d %H:%M} UTC")
        lines.append(f"{state} {dag['dag_id']:<{width}}  {schedule}{when}")
    return lines


def paused_by_default() -> bool:
    """``NEWS_INGEST_AIRFLOW_PAUSED`` (``make airflow PAUSED=1``) keeps the DAGs paused."""
    return os.environ.get("NEWS_INGEST_AIRFLOW_PAUSED", "").strip().lower() not in (
        "", "0", "false", "no")


def run_standalone(env: Environment, *, port: int = 8080, demo_port: int | None = None,
                   paused: bool | None = None) -> int:
    """``make airflow``: Airflow on 127.0.0.1 with this project's DAGs, unpaused unless
    ``paused`` (default: :func:`paused_by_default`), the warehouse connection on the
    embedded PostgreSQL, and (unless a sources file is given) the demo site to ingest
    from. Stops everything on Ctrl-C."""
    import signal

    from ingest import db
    from ingest.demo.site import DemoSite, sources_yaml

    paused = paused_by_default() if paused is None else paused
    home = env.home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    dsn = db.embedded_dsn(home)
    with db.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
    demo_port = demo_port or int(os.environ.get("NEWS_INGEST_DEMO_PORT", DEFAULT_DEMO_PORT))
    with DemoSite(demo_port) as site:
        config = env.config.resolve() if env.config else None
        if config is None and Path("sources.yml").is_file():
            config = Path("sources.yml").resolve()
        if config is None:
            config = home / "demo" / "sources.yml"
            config.parent.mkdir(exist_ok=True)
            config.write_text(sources_yaml(site.base), encoding="utf-8")
        airflow_home = home / "airflow"
        log_path = airflow_home / "standalone.log"
        child_env = standalone_env(home, dsn, config, port)
        base = f"http://{LOOPBACK}:{port}"
        print(f"news-ingest: Airflow on {base}/ (logs: {airflow_home}/*.log)")
        print(f"  sources: {config}")
        print(f"  warehouse: embedded PostgreSQL ({db.redact(dsn)}), connection news_warehouse")
        print(f"  listening on {LOOPBACK} only: UI and API :{port}, task log server "
              f":{child_env['AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT']}, "
              f"demo site :{demo_port}")
        proc = start_standalone(child_env, log_path)
        passwords = airflow_home / "simple_auth_manager_passwords.json.generated"

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)  # a plain kill stops Airflow's children too
        try:
            if not wait_until_up(base, passwords, proc):
                tail = log_path.read_text(errors="replace").splitlines()[-30:]
                print(f"Airflow did not start; last lines of {log_path}:\n" + "\n".join(tail))
                stop_group(proc)
                return 1
            print(f"  login: admin (password in {passwords})")
            dags, errors = activate_dags(base, token_for(base, passwords), paused=paused)
            print("  DAGs " + ("kept paused (PAUSED=1); unpause them in the UI:" if paused else
                               "unpaused (make airflow PAUSED=1 keeps them paused):"))
            for line in describe_dags(dags):
                print(f"    {line}")
            for error in errors:
                print(f"    import error: {error}")
            print("  Ctrl-C stops Airflow, the demo site and the embedded PostgreSQL.")
            return proc.wait()
        except KeyboardInterrupt:
            print("\nstopping Airflow ...")
            stop_group(proc)
            return 0


def stop_group(proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Stop a child started with its own session, and everything it started."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group (log servers, ...)
    proc.wait()


def main(argv: list[str] | None = None) -> int:
    """``python -m ingest.standalone [--port N] [--paused]`` (what ``news-ingest airflow``
    does), and ``... supervise DIR`` (what :func:`start_standalone` runs)."""
    import argparse

    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["supervise"]:
        return supervise(Path(args[1]))
    parser = argparse.ArgumentParser(prog="python -m ingest.standalone")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--paused", action="store_true", default=None,
                        help="keep the DAGs paused (default: unpause them)")
    options = parser.parse_args(args)
    from ingest.config import Environment

    return run_standalone(Environment(), port=options.port, paused=options.paused)


if __name__ == "__main__":
    sys.exit(main())
