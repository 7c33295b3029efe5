"""`make loadtest`: a fresh PostgreSQL database, gunicorn, 60 s of locust, two faults, the checker.

1. Drop and create the database (its name must start with ``portal_load``: this script drops
   it), ``flask db upgrade``, ``flask seed demo`` (demo mode: the demo accounts drive the load).
2. Start gunicorn on the loopback (4 gthread workers x 2 threads, the README's deployment
   settings) and wait for /healthz.
3. Run locust headless (50 users, 5 started per second, 60 s) while a prober asks /healthz ten
   times a second; in the middle, SIGKILL one worker (not the master) and restart PostgreSQL.
4. Check that the gunicorn master is the one started (nothing was restarted by hand), stop it,
   and run loadtest/check.py on the results. The exit status is the checker's.

Everything goes to instance/loadtest/<time>/ (requests, accepted writes, fault times, locust's
CSV, gunicorn's log). Options: ``--no-faults`` for a clean run, ``--keep-db`` to keep the data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/portal_load"


def main() -> int:
    args = _parse_args()
    out = Path(args.out or ROOT / "instance" / "loadtest" / f"{dt.datetime.now():%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    uploads = Path(tempfile.mkdtemp(prefix="portal-loadtest-uploads-"))
    env = _app_env(args.database_url, uploads)
    print(f"Results in {out}")

    t0 = time.monotonic()
    load_before = os.getloadavg()
    _fresh_database(args.database_url)
    _schema(env, args.schema)
    _flask(env, "seed", "demo")
    print(f"Database ready in {time.monotonic() - t0:.0f} s")
    _flask(env, "--help")  # the app imports cleanly before gunicorn forks workers
    subprocess.run(
        [str(BIN / "python"), str(ROOT / "loadtest" / "check.py"), "baseline", str(out)],
        env=env,
        check=True,
    )

    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    gunicorn = _start_gunicorn(env, out, port, args)
    faults: list[dict] = []
    try:
        _wait_healthy(host, 30)
        master_pid = gunicorn.pid
        prober = Prober(host, out / "healthz.jsonl")
        prober.start()
        locust = _start_locust(out, host, args)
        started = time.time()
        if not args.no_faults:
            _inject_faults(master_pid, started, args, faults, out)
        locust.wait(timeout=args.duration + 60)
        prober.stop()
        survived = _alive(master_pid) and _worker_pids(master_pid)
        faults.append(
            {
                "kind": "gunicorn_master_check",
                "pid": master_pid,
                "alive_at_end": bool(survived),
                "workers_at_end": len(_worker_pids(master_pid)),
            }
        )
        (out / "faults.json").write_text(json.dumps(faults, indent=2))
    finally:
        _stop(gunicorn)
    check = subprocess.run(
        [str(BIN / "python"), str(ROOT / "loadtest" / "check.py"), "verify", str(out)],
        env={
            **env,
            "LOADTEST_HOST_INFO": machine(),
            "LOADTEST_USERS": str(args.users),
            # Other work on the machine slows the portal down: the figures say how busy it was.
            "LOADTEST_LOADAVG": f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after",
        },
    )
    if not args.keep_db:
        _drop_database(args.database_url)
    print(f"Total wall time {time.monotonic() - t0:.0f} s; results in {out}")
    return check.returncode


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_DB)
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", type=int, default=60, help="seconds of traffic")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kill-worker-at", type=float, default=20, help="seconds into the run")
    parser.add_argument("--restart-db-at", type=float, default=35, help="seconds into the run")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database after")
    parser.add_argument(
        "--schema",
        choices=("migrate", "create-all"),
        default="migrate",
        help="migrate: flask db upgrade (the real path); create-all: models' create_all, for "
        "a working tree whose migration is not written yet",
    )
    parser.add_argument("--out", help="result directory (default instance/loadtest/<time>)")
    return parser.parse_args()


def _app_env(database_url: str, uploads: Path) -> dict[str, str]:
    """The app's environment for the run (demo mode, like `make run`, on PostgreSQL).

    All the load comes from one address (127.0.0.1), so the per-IP limit on logins would refuse
    the 30-odd virtual users logging in within seconds; it is raised for the run (the per-account
    limit stays, each account logs in once). Uploads go to a temporary directory.
    """
    env = dict(os.environ)
    env.update(
        PORTAL_CONFIG="development",
        DATABASE_URL=database_url,
        UPLOAD_ROOT=str(uploads),
        AUTH_RATE_LIMIT_IP="10000 per minute",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    return env


def _flask(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        hint = ""
        if "UndefinedColumn" in done.stderr or "UndefinedTable" in done.stderr:
            hint = (
                " (the models changed without a migration? try LOADTEST_ARGS=--schema=create-all)"
            )
        raise SystemExit(f"flask {' '.join(args)} failed{hint}")


def _schema(env: dict[str, str], how: str) -> None:
    if how == "migrate":
        _flask(env, "db", "upgrade")
        return
    code = (
        "from portal import create_app; from portal.extensions import db\n"
        "app = create_app()\n"
        "with app.app_context(): db.create_all()\n"
    )
    subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=env, check=True)


def _admin_url(database_url: str) -> tuple[str, str]:
    """(libpq URL of the maintenance database, name of the load-test database)."""
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.startswith("portal_load"):
        raise SystemExit(f"refusing to drop {name!r}: the load-test database must be portal_load*")
    scheme = parts.scheme.split("+", 1)[0]
    return urlunsplit((scheme, parts.netloc, "/postgres", "", "")), name


def _fresh_database(database_url: str) -> None:
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(database_url: str) -> None:
    import psycopg

    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_gunicorn(
    env: dict[str, str], out: Path, port: int, args: argparse.Namespace
) -> subprocess.Popen:
    command = [
        str(BIN / "gunicorn"),
        "--worker-class",
        "gthread",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--timeout",
        "30",
        "--bind",
        f"127.0.0.1:{port}",
        "--control-socket",
        str(out / "gunicorn.ctl"),
        "--error-logfile",
        str(out / "gunicorn.log"),
        "wsgi:app",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def _start_locust(out: Path, host: str, args: argparse.Namespace) -> subprocess.Popen:
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(out / "locust"),
        "--only-summary",
        "--exit-code-on-error",
        "0",
    ]
    env = {**os.environ, "LOADTEST_OUT": str(out)}
    log = open(out / "locust.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _worker_pids(master_pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _inject_faults(
    master_pid: int, started: float, args: argparse.Namespace, faults: list[dict], out: Path
) -> None:
    """At fixed times into the run: SIGKILL one worker, then restart PostgreSQL."""
    time.sleep(max(0.0, started + args.kill_worker_at - time.time()))
    workers = _worker_pids(master_pid)
    if not workers:
        raise SystemExit("no gunicorn worker to kill")
    victim = workers[len(workers) // 2]
    at = time.time()
    os.kill(victim, signal.SIGKILL)
    faults.append({"kind": "worker_kill", "pid": victim, "at": at, "workers_before": workers})
    print(f"+{at - started:.1f} s: SIGKILL gunicorn worker {victim}")
    (out / "faults.json").write_text(json.dumps(faults, indent=2))

    time.sleep(max(0.0, started + args.restart_db_at - time.time()))
    versions = sorted(os.listdir("/etc/postgresql"))
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]
    begin = time.time()
    subprocess.run(command, check=True)
    end = time.time()
    faults.append({"kind": "pg_restart", "start": begin, "end": end, "command": " ".join(command)})
    print(f"+{begin - started:.1f} s: PostgreSQL restarted in {end - begin:.1f} s")
    respawned = sorted(set(_worker_pids(master_pid)) - set(workers))
    faults[0]["respawned"] = respawned
    (out / "faults.json").write_text(json.dumps(faults, indent=2))


class Prober(threading.Thread):
    """GET /healthz every 100 ms: when the service stopped answering and when it came back."""

    def __init__(self, host: str, path: Path) -> None:
        super().__init__(daemon=True)
        self.url = f"{host}/healthz"
        self.path = path
        self._stop_event = threading.Event()

    def run(self) -> None:
        with self.path.open("w") as log:
            while not self._stop_event.is_set():
                start = time.time()
                try:
                    with urllib.request.urlopen(self.url, timeout=5) as response:
                        status = response.status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                except OSError:
                    status = 0
                log.write(json.dumps({"t": round(start, 3), "status": status}) + "\n")
                self._stop_event.wait(max(0.0, 0.1 - (time.time() - start)))

    def stop(self) -> None:
        self._stop_event.set()
        self.join(10)


def _wait_healthy(host: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{host}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not become healthy")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def machine() -> str:
    """CPU, memory and Python of this host, for the run's report (make bench adds its tools)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPU ({cpu}), {mem}, Python {sys.version.split()[0]}"


if __name__ == "__main__":
    sys.exit(main())
