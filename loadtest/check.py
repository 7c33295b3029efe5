"""The load test's verdict: no 5xx outside the fault windows, every accepted write stored once.

``check.py baseline DIR`` notes the highest ids before the run (what is new afterwards);
``check.py verify DIR`` reads what locust and the fault injector wrote in DIR and exits 1 on:

* any 5xx, or connection error, whose request overlaps no fault window (a worker kill: from the
  kill to 1 s after; the PostgreSQL restart: from its start to 3 s after it returned); any 5xx
  that is not our own complete error page (a traceback, gunicorn's bare page, a half page);
  any other failed request (an unexpected 4xx) anywhere;
* an accepted write (303 after a POST, recorded by the virtual user) missing from the database,
  stored twice, or different from what was sent; more new rows than accepted plus unknown writes;
* a half-written record: a SADOKU request without its submission on the timeline or whose
  timeline disagrees with its status; a pickup without its first event; a weighing credit or a
  withdrawal hold missing or doubled; an attachment row whose file is not in storage;
* `flask jumpa-madu ledger-check` failing;
* the gunicorn master not being the one started, or the service not answering after the faults.

It needs the app's environment (PORTAL_CONFIG, DATABASE_URL, UPLOAD_ROOT) as run.py sets it.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORKER_KILL_GRACE = 1.0  # seconds after a SIGKILL in which requests may still fail
PG_RESTART_GRACE = 3.0  # seconds after PostgreSQL is back in which requests may still fail


def _app() -> Any:
    from portal import create_app

    return create_app()


def baseline(out: Path) -> None:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.jumpa_madu.models import Pickup, Withdrawal
    from portal.sadoku.models import DocumentRequest

    with _app().app_context():
        ids = {
            "sadoku_requests": db.session.scalar(select(func.max(DocumentRequest.id))) or 0,
            "jm_pickups": db.session.scalar(select(func.max(Pickup.id))) or 0,
            "jm_withdrawals": db.session.scalar(select(func.max(Withdrawal.id))) or 0,
        }
    (out / "baseline.json").write_text(json.dumps(ids))


def _jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _windows(faults: list[dict]) -> list[tuple[str, float, float]]:
    windows = []
    for fault in faults:
        if fault["kind"] == "worker_kill":
            windows.append(("worker kill", fault["at"], fault["at"] + WORKER_KILL_GRACE))
        elif fault["kind"] == "pg_restart":
            windows.append(("PostgreSQL restart", fault["start"], fault["end"] + PG_RESTART_GRACE))
    return windows


def _in_window(entry: dict, windows: list[tuple[str, float, float]]) -> str | None:
    for name, start, end in windows:
        if entry["start"] <= end and entry["end"] >= start:
            return name
    return None


def traffic(out: Path, problems: list[str]) -> dict[str, Any]:
    """Counts, latencies and the classification of every failed request."""
    requests = _jsonl(out / "requests.jsonl")
    faults = json.loads((out / "faults.json").read_text()) if (out / "faults.json").exists() else []
    windows = _windows(faults)
    kinds: Counter[str] = Counter()
    in_windows: Counter[str] = Counter()
    outside = 0
    for entry in requests:
        status = entry["status"]
        failed = status == 0 or status >= 500 or "error" in entry
        if not failed:
            continue
        if status == 0:
            kind = f"connection error ({entry.get('error', '?')})"
        elif status >= 500:
            kind = f"HTTP {status} " + ("clean error page" if entry.get("clean") else "UNCLEAN")
        else:
            kind = f"unexpected HTTP {status}"
        kinds[kind] += 1
        window = _in_window(entry, windows)
        if status >= 500 and not entry.get("clean"):
            problems.append(f"{entry['method']} {entry['name']}: {status} without our error page")
        if window is None or 400 <= status < 500:
            outside += 1
            problems.append(
                f"{kind} outside any fault window: {entry['method']} {entry['name']} "
                f"at {entry['start']:.3f} ({entry.get('detail', '')})"
            )
        else:
            in_windows[window] += 1
    durations = [e["ms"] for e in requests if e["status"] and e["status"] < 500]
    without_login = [
        e["ms"]
        for e in requests
        if e["status"] and e["status"] < 500 and not e["name"].startswith("/accounts/login")
    ]
    summary: dict[str, Any] = {
        "requests": len(requests),
        "failures": dict(kinds),
        "failures_in_windows": dict(in_windows),
        "failures_outside_windows": outside,
        "p50_ms": _percentile(durations, 50),
        "p95_ms": _percentile(durations, 95),
        "p99_ms": _percentile(durations, 99),
        "max_ms": max(durations, default=0),
        # Logins hash the password with Argon2id (64 MiB, on purpose slow): apart, the rest.
        "p50_ms_without_login": _percentile(without_login, 50),
        "p95_ms_without_login": _percentile(without_login, 95),
        "windows": [{"fault": n, "from": s, "to": e} for n, s, e in windows],
    }
    if requests:
        span = max(e["end"] for e in requests) - min(e["start"] for e in requests)
        summary["requests_per_s"] = round(len(requests) / span, 1) if span else 0
    summary["locust"] = _locust_aggregate(out)
    wanted = int(os.environ.get("LOADTEST_USERS", "0"))
    if summary["locust"].get("users", 0) < wanted:
        problems.append(f"locust reached {summary['locust'].get('users')} users of {wanted}")
    log = (out / "locust.log").read_text() if (out / "locust.log").exists() else ""
    if "Traceback" in log:
        problems.append("the locust run logged a traceback (see locust.log)")
    # Locust writes its final CSV as it stops; requests still finishing then are only in the log,
    # which is written by locust's own request hook: it is the count used above.
    summary.update(_recovery(out, faults, requests, problems))
    return summary


def _locust_aggregate(out: Path) -> dict[str, Any]:
    """Locust's own totals (its CSV), to cross-check the request log, and the users it ran."""
    result: dict[str, Any] = {}
    path = out / "locust_stats.csv"
    if path.exists():
        with path.open() as handle:
            for row in csv.DictReader(handle):
                if row.get("Name") == "Aggregated":
                    result = {
                        "requests": int(row["Request Count"]),
                        "failures": int(row["Failure Count"]),
                        "p50_ms": float(row["50%"]),
                        "p95_ms": float(row["95%"]),
                    }
    history = out / "locust_stats_history.csv"
    if history.exists():
        with history.open() as handle:
            result["users"] = max((int(r["User Count"]) for r in csv.DictReader(handle)), default=0)
    return result


def _recovery(
    out: Path, faults: list[dict], requests: list[dict], problems: list[str]
) -> dict[str, Any]:
    """How long /healthz and the load took to come back after each fault."""
    probes = _jsonl(out / "healthz.jsonl")
    result: dict[str, Any] = {}
    for fault in faults:
        if fault["kind"] == "pg_restart":
            start, end = fault["start"], fault["end"]
            down = [p["t"] for p in probes if p["t"] >= start - 0.2 and p["status"] != 200]
            back = [p["t"] for p in probes if p["t"] >= end and p["status"] == 200]
            ok_load = [
                e["start"]
                for e in requests
                if e["start"] >= end and e["status"] and e["status"] < 500 and "error" not in e
            ]
            bad_load = [
                e["end"]
                for e in requests
                if e["end"] >= start and (not e["status"] or e["status"] >= 500)
            ]
            result["pg_restart_s"] = round(end - start, 2)
            result["healthz_first_failure_after_restart_s"] = (
                round(min(down) - start, 2) if down else None
            )
            result["healthz_back_after_pg_up_s"] = round(min(back) - end, 2) if back else None
            result["load_first_success_after_pg_up_s"] = (
                round(min(ok_load) - end, 2) if ok_load else None
            )
            result["load_last_failure_after_pg_up_s"] = (
                round(max(bad_load) - end, 2) if bad_load else None
            )
            if not back:
                problems.append("/healthz never answered 200 after the PostgreSQL restart")
            if not ok_load:
                problems.append("no request succeeded after the PostgreSQL restart")
        elif fault["kind"] == "worker_kill":
            result["worker_killed"] = fault["pid"]
            result["worker_respawned"] = fault.get("respawned")
        elif fault["kind"] == "gunicorn_master_check":
            result["gunicorn_master_alive_at_end"] = fault["alive_at_end"]
            result["gunicorn_workers_at_end"] = fault["workers_at_end"]
            if not fault["alive_at_end"]:
                problems.append("the gunicorn master did not survive the run")
    return result


def database(out: Path, problems: list[str]) -> dict[str, Any]:
    """Accepted writes against the database, and the invariants of every new record."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import selectinload

    from portal.accounts.models import User
    from portal.core.uploads import get_storage
    from portal.extensions import db
    from portal.jumpa_madu.ledger import LedgerEntry, LedgerTransaction, TxnKind
    from portal.jumpa_madu.models import Pickup, PickupEvent, PickupStatus, Weighing, Withdrawal
    from portal.sadoku.models import DocumentRequest, RequestEvent, Status

    base = json.loads((out / "baseline.json").read_text())
    writes = _jsonl(out / "writes.jsonl")
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for write in writes:
        by_kind[write["kind"]].append(write)
    counts = {kind: len(items) for kind, items in sorted(by_kind.items())}

    app = _app()
    # Recovery without a restart rests on this: a pooled connection that died with PostgreSQL is
    # noticed by a ping at checkout and replaced, instead of failing the request that drew it.
    if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        problems.append("SQLALCHEMY_ENGINE_OPTIONS has no pool_pre_ping")
    with app.app_context():
        emails = dict(db.session.execute(select(User.id, User.email)).all())

        # SADOKU: every accepted submission once, with its one submission event.
        for write in by_kind["sadoku_submit"]:
            found = db.session.scalars(
                select(DocumentRequest)
                .where(DocumentRequest.code == write["code"])
                .options(selectinload(DocumentRequest.events))
            ).all()
            if len(found) != 1:
                problems.append(f"SADOKU {write['code']}: {len(found)} rows, expected 1")
                continue
            req = found[0]
            submits = [e for e in req.events if e.to_status == Status.SUBMITTED]
            if req.status == Status.DRAFT or len(submits) != 1 or req.id != write["draft_id"]:
                problems.append(
                    f"SADOKU {write['code']}: status {req.status}, {len(submits)} submits"
                )
            if emails.get(req.user_id) != write["user"]:
                problems.append(f"SADOKU {write['code']}: filed for the wrong account")
        for write in by_kind["sadoku_move"]:
            n = db.session.scalar(
                select(func.count(RequestEvent.id))
                .join(DocumentRequest, DocumentRequest.id == RequestEvent.request_id)
                .where(
                    DocumentRequest.code == write["code"],
                    RequestEvent.from_status == Status(write["frm"]),
                    RequestEvent.to_status == Status(write["to"]),
                )
            )
            if n != 1:
                problems.append(f"SADOKU {write['code']} {write['frm']}->{write['to']}: {n} events")

        new_requests = db.session.scalars(
            select(DocumentRequest)
            .where(DocumentRequest.id > base["sadoku_requests"])
            .options(
                selectinload(DocumentRequest.events), selectinload(DocumentRequest.attachments)
            )
        ).all()
        storage = get_storage()
        missing_files = 0
        for req in new_requests:
            if req.status == Status.DRAFT:
                if req.events:
                    problems.append(f"SADOKU draft {req.id} has timeline events")
            else:
                first = req.events[0] if req.events else None
                if first is None or (first.from_status, first.to_status) != (
                    Status.DRAFT,
                    Status.SUBMITTED,
                ):
                    problems.append(f"SADOKU {req.code}: first timeline row is not its submission")
                elif req.events[-1].to_status != req.status:
                    problems.append(
                        f"SADOKU {req.code}: timeline ends at {req.events[-1].to_status}"
                    )
                if not req.code or req.submitted_at is None:
                    problems.append(f"SADOKU request {req.id}: sent without code or time")
            for attachment in req.attachments:
                try:
                    storage.read(attachment.storage_key)
                except (FileNotFoundError, ValueError):
                    missing_files += 1
        if missing_files:
            problems.append(f"{missing_files} SADOKU attachment rows without their file")
        _per_user_count(
            "sadoku_submit",
            by_kind,
            Counter(emails.get(r.user_id, "?") for r in new_requests if r.status != Status.DRAFT),
            problems,
        )

        # Jumpa Madu pickups: accepted ones once, as sent; officers' moves once each.
        new_pickups = db.session.scalars(
            select(Pickup)
            .where(Pickup.id > base["jm_pickups"])
            .options(
                selectinload(Pickup.events),
                selectinload(Pickup.estimates),
                selectinload(Pickup.weighings),
            )
        ).all()
        pickups = {p.id: p for p in new_pickups}
        per_user: Counter[str] = Counter(emails.get(p.user_id, "?") for p in new_pickups)
        for write in by_kind["pickup"]:
            pickup = pickups.get(write["pickup_id"])
            if pickup is None:
                problems.append(f"pickup {write['pickup_id']}: accepted but not stored")
                continue
            if emails.get(pickup.user_id) != write["user"]:
                problems.append(f"pickup {pickup.id}: stored for another account")
            if sum(e.weight_g for e in pickup.estimates) != write["estimated_g"]:
                problems.append(f"pickup {pickup.id}: estimates differ from what was sent")
        _per_user_count("pickup", by_kind, per_user, problems)
        for pickup in new_pickups:
            first = pickup.events[0] if pickup.events else None
            if first is None or first.to_status != PickupStatus.REQUESTED:
                problems.append(f"pickup {pickup.id}: no first timeline event")
            elif pickup.events[-1].to_status != pickup.status:
                problems.append(
                    f"pickup {pickup.id}: timeline ends at {pickup.events[-1].to_status}"
                )
            live = [w for w in pickup.weighings if w.superseded_at is None]
            if pickup.status in (PickupStatus.WEIGHED, PickupStatus.CONFIRMED) and len(live) != 1:
                problems.append(f"pickup {pickup.id}: {pickup.status} with {len(live)} weighings")
        moves = {
            "pickup_schedule": (PickupStatus.REQUESTED, PickupStatus.SCHEDULED),
            "pickup_start": (PickupStatus.SCHEDULED, PickupStatus.ON_THE_WAY),
            "pickup_weigh": (PickupStatus.ON_THE_WAY, PickupStatus.WEIGHED),
            "pickup_confirm": (PickupStatus.WEIGHED, PickupStatus.CONFIRMED),
        }
        for kind, (frm, to) in moves.items():
            for write in by_kind[kind]:
                n = db.session.scalar(
                    select(func.count(PickupEvent.id)).where(
                        PickupEvent.pickup_id == write["pickup_id"],
                        PickupEvent.from_status == frm,
                        PickupEvent.to_status == to,
                    )
                )
                if n != 1:
                    problems.append(f"pickup {write['pickup_id']} {frm}->{to}: {n} events")
        for write in by_kind["pickup_weigh"]:
            weighing = db.session.scalar(
                select(Weighing).where(
                    Weighing.pickup_id == write["pickup_id"], Weighing.number == 1
                )
            )
            if weighing is None or weighing.resident_amount != write["resident_amount"]:
                problems.append(f"pickup {write['pickup_id']}: weighing differs from the quote")

        # Money: one credit per confirmed weighing, one hold per withdrawal, amounts as asked.
        credits = Counter(
            db.session.scalars(
                select(LedgerTransaction.key).where(
                    LedgerTransaction.kind == TxnKind.WEIGHING_CREDIT
                )
            ).all()
        )
        for pickup in new_pickups:
            for weighing in pickup.weighings:
                expected = 1 if weighing.confirmed_at and weighing.resident_amount else 0
                times = credits.get(f"weighing:{weighing.id}:credit", 0)
                if times != expected:
                    problems.append(f"weighing {weighing.id}: credited {times} times")
        new_withdrawals = db.session.scalars(
            select(Withdrawal).where(Withdrawal.id > base["jm_withdrawals"])
        ).all()
        holds = dict(
            db.session.execute(
                select(LedgerTransaction.withdrawal_id, func.count(LedgerTransaction.id))
                .where(LedgerTransaction.kind == TxnKind.WITHDRAWAL_HOLD)
                .group_by(LedgerTransaction.withdrawal_id)
            ).all()
        )
        held = dict(
            db.session.execute(
                select(LedgerTransaction.withdrawal_id, func.sum(LedgerEntry.amount))
                .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
                .where(LedgerTransaction.kind == TxnKind.WITHDRAWAL_HOLD, LedgerEntry.amount > 0)
                .group_by(LedgerTransaction.withdrawal_id)
            ).all()
        )
        for withdrawal in new_withdrawals:
            if holds.get(withdrawal.id, 0) != 1 or held.get(withdrawal.id) != withdrawal.amount:
                problems.append(f"withdrawal {withdrawal.code}: hold missing, doubled or wrong")
        unmatched = {w.id: w for w in new_withdrawals}
        for write in by_kind["withdrawal"]:
            wid = write.get("withdrawal_id")
            if wid is None:  # the code was not read back: match by account and amount
                wid = next(
                    (
                        w.id
                        for w in unmatched.values()
                        if emails.get(w.user_id) == write["user"] and w.amount == write["amount"]
                    ),
                    None,
                )
            withdrawal = unmatched.pop(wid, None) if wid is not None else None
            if withdrawal is None:
                problems.append(f"withdrawal of {write['amount']} by {write['user']}: not stored")
            elif (
                emails.get(withdrawal.user_id) != write["user"]
                or withdrawal.amount != write["amount"]
            ):
                problems.append(f"withdrawal {withdrawal.code}: differs from what was asked")
        _per_user_count(
            "withdrawal",
            by_kind,
            Counter(emails.get(w.user_id, "?") for w in new_withdrawals),
            problems,
        )
        new_counts = {
            "sadoku_requests_submitted": sum(1 for r in new_requests if r.status != Status.DRAFT),
            "sadoku_drafts_left": sum(1 for r in new_requests if r.status == Status.DRAFT),
            "pickups": len(new_pickups),
            "withdrawals": len(new_withdrawals),
        }
        server = (
            db.session.execute(db.text("SHOW server_version")).scalar()
            if (db.engine.dialect.name == "postgresql")
            else None
        )

    ledger = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "jumpa-madu", "ledger-check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if ledger.returncode != 0:
        problems.append("ledger-check failed: " + (ledger.stderr or ledger.stdout).strip())
    return {
        "accepted_writes": counts,
        "new_rows": new_counts,
        "ledger_check": (ledger.stdout or ledger.stderr).strip(),
        "postgresql": server,
        "pool_pre_ping": bool(app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping")),
    }


def _per_user_count(
    kind: str, by_kind: dict[str, list[dict]], stored: Counter[str], problems: list[str]
) -> None:
    """Per account: accepted <= new rows (none lost) <= attempts (none doubled).

    A virtual user notes each attempt before posting, so a write whose answer was lost (a killed
    worker, the end of the run) may be stored without being accepted, but never twice.
    """
    accepted = Counter(w["user"] for w in by_kind[kind])
    attempts = Counter(w["user"] for w in by_kind[f"{kind}_attempt"])
    for user in set(accepted) | set(stored):
        if not accepted[user] <= stored[user] <= attempts[user]:
            problems.append(
                f"{kind}s of {user}: {stored[user]} stored, {accepted[user]} accepted, "
                f"{attempts[user]} attempted"
            )


def verify(out: Path) -> int:
    problems: list[str] = []
    summary = {
        "machine": os.environ.get("LOADTEST_HOST_INFO", ""),
        "load_average_1min": os.environ.get("LOADTEST_LOADAVG", ""),
    }
    summary["traffic"] = traffic(out, problems)
    summary["database"] = database(out, problems)
    summary["problems"] = problems
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    if problems:
        print(f"\nFAILED: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems[:50]:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(
        "\nOK: no 5xx outside the fault windows, every accepted write stored exactly once, "
        "ledger-check passes."
    )
    return 0


if __name__ == "__main__":
    command, directory = sys.argv[1], Path(sys.argv[2])
    if command == "baseline":
        baseline(directory)
        sys.exit(0)
    sys.exit(verify(directory))
