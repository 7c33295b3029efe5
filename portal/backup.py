"""`flask backup`: a consistent copy of the database, safe to take while the portal runs.

SQLite: the sqlite3 online backup API copies the live file page by page under SQLite's own locks,
so a backup taken during a write is the database before or after it, never half of it (copying
the file with `cp` can catch a half-written page). PostgreSQL: `pg_dump -Fc`, one consistent
snapshot in the custom format that `pg_restore` reads. Either way the backup holds personal data
(NIK and KK stay encrypted with DATA_ENCRYPTION_KEYS, which are not in it): the file is written
readable by its owner only, under a timestamped name, and only renamed into place when complete.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_SUFFIX = ".sqlite3"
PG_SUFFIX = ".dump"
PREFIX = "portal-"


class BackupError(Exception):
    """The backup could not be made; the message says what to do."""


@dataclass
class Backup:
    path: Path
    size: int


def backup_dir(configured: str | None, instance_path: str) -> Path:
    return Path(configured) if configured else Path(instance_path) / "backups"


def _target(directory: Path, suffix: str, now: dt.datetime | None = None) -> Path:
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{PREFIX}{stamp}{suffix}"
    n = 1
    while path.exists():  # two backups within one second keep both
        n += 1
        path = directory / f"{PREFIX}{stamp}-{n}{suffix}"
    return path


def _private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)


def backup_sqlite(database: str, directory: Path) -> Backup:
    """Copy a SQLite database file with the online backup API."""
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up; use a file.")
    if not Path(database).exists():
        raise BackupError(f"The SQLite database {database} does not exist.")
    _private_dir(directory)
    target = _target(directory, SQLITE_SUFFIX)
    partial = target.with_name(target.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Backup(target, target.stat().st_size)


def libpq_url(url: URL) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore without its password, and the environment carrying it.

    A password on the command line would show in `ps` to every user of the machine.
    """
    env = {"PGPASSWORD": url.password} if url.password else {}
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_dump_command(url: URL, target: Path) -> list[str]:
    conninfo, _env = libpq_url(url)
    return ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), conninfo]


def backup_postgresql(url: URL, directory: Path) -> Backup:
    """`pg_dump -Fc` of the database to a timestamped file."""
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "pg_dump is not installed (Debian: apt-get install postgresql-client); "
            "run this on a machine that has it."
        )
    _private_dir(directory)
    target = _target(directory, PG_SUFFIX)
    partial = target.with_name(target.name + ".partial")
    command = pg_dump_command(url, partial)
    _conninfo, env = libpq_url(url)
    old_umask = os.umask(0o077)
    try:
        result = subprocess.run(  # noqa: S603 - fixed program, arguments built above
            command, env={**os.environ, **env}, capture_output=True, text=True, check=False
        )
    finally:
        os.umask(old_umask)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError("pg_dump failed: " + result.stderr.strip())
    os.replace(partial, target)
    return Backup(target, target.stat().st_size)


def make_backup(database: URL | str, directory: Path) -> Backup:
    """Back up the database at `database` (the engine's URL) into `directory`."""
    url = make_url(database)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return backup_sqlite(url.database or "", directory)
    if backend == "postgresql":
        return backup_postgresql(url, directory)
    raise BackupError(f"No backup method for {backend} databases.")


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups made by this command; returns what it deleted."""
    if keep <= 0:
        return []
    ours = sorted(
        (
            p
            for p in directory.glob(f"{PREFIX}*")
            if p.suffix in (SQLITE_SUFFIX, PG_SUFFIX) and p.is_file()
        ),
        key=lambda p: (p.stat().st_mtime, p.name),
        reverse=True,
    )
    doomed = ours[keep:]
    for path in doomed:
        path.unlink()
    return doomed
