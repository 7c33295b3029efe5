"""Tables and budget verdicts for `make bench`, from the results dictionary bench/run.py writes.

Kept apart from the driver so the formatting can be tested on a small sample without nginx,
gunicorn or wrk. Budgets are the issue's (README "Performance"):

- every key page >= 50% of the reference's requests/s at 16 connections;
- p95 <= 100 ms at 50 connections with no error (the issue asks it of PostgreSQL; on SQLite the
  verdict is printed but marked informative);
- ten times more data costs at most 1.5x the page time (p50 at 1 connection, smaller vs larger
  dataset);
- the same number of SQL queries per page at both dataset sizes;
- first load of a public page <= 100 KB compressed (htmx included), fragments <= 30 KB
  compressed, product thumbnails <= 30 KB.
"""

from __future__ import annotations

from typing import Any

KB = 1024
RATIO_MIN = 0.5
P95_MAX_MS = 100.0
GROWTH_MAX = 1.5
FIRST_LOAD_MAX = 100 * KB
FRAGMENT_MAX = 30 * KB
THUMBNAIL_MAX = 30 * KB


def _kb(n: int | None) -> str:
    return "" if n is None else f"{n / KB:.1f}"


def _num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return ""
    return f"{x:,.{digits}f}"


def _run(page: dict[str, Any], conns: int | str) -> dict[str, Any] | None:
    return page.get("runs", {}).get(str(conns))


def ratio(page: dict[str, Any], reference: dict[str, Any], conns: int | str) -> float | None:
    """The page's requests/s over the reference's at the same number of connections."""
    mine, ref = _run(page, conns), reference.get(str(conns))
    if not mine or not ref or not ref.get("rps"):
        return None
    return mine["rps"] / ref["rps"]


def errors(run: dict[str, Any] | None) -> int:
    """HTTP statuses >= 400 plus socket errors (connect, read, write, timeout)."""
    if not run:
        return 0
    return int(run.get("status_errors", 0)) + int(run.get("socket_errors", 0))


def main_table(size: dict[str, Any], connections: list[int]) -> str:
    """One row per page: throughput at each connection count, latency, errors, SQL, bytes."""
    lo, mid, hi = connections[0], connections[len(connections) // 2], connections[-1]
    head = (
        ["page"]
        + [f"req/s c{c}" for c in connections]
        + [
            f"x ref c{mid}",
            f"p50/p95/p99 ms c{lo}",
            f"p50/p95/p99 ms c{hi}",
            "errors",
            "SQL",
            "KB raw/gz",
            "fragment KB gz",
        ]
    )
    rows = [head, ["---"] * len(head)]
    reference = size["reference"]
    ref_row = (
        ["reference (Fortunes)"]
        + [_num((reference.get(str(c)) or {}).get("rps")) for c in connections]
        + [
            "1.00",
            _latencies(reference.get(str(lo))),
            _latencies(reference.get(str(hi))),
            str(sum(errors(reference.get(str(c))) for c in connections)),
            "1",
            "",
            "",
        ]
    )
    rows.append(ref_row)
    for page in size["pages"]:
        r = ratio(page, reference, mid)
        rows.append(
            [page["name"]]
            + [_num((_run(page, c) or {}).get("rps")) for c in connections]
            + [
                "" if r is None else f"{r:.2f}",
                _latencies(_run(page, lo)),
                _latencies(_run(page, hi)),
                str(sum(errors(_run(page, c)) for c in connections)),
                "" if page.get("queries") is None else str(page["queries"]),
                ""
                if page.get("bytes_raw") is None
                else f"{_kb(page['bytes_raw'])} / {_kb(page['bytes_gzip'])}",
                _kb(page.get("fragment_gzip")),
            ]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _latencies(run: dict[str, Any] | None) -> str:
    if not run:
        return ""
    return f"{run['p50_ms']:.0f} / {run['p95_ms']:.0f} / {run['p99_ms']:.0f}"


def growth(small: dict[str, Any], large: dict[str, Any], conns: int) -> list[dict[str, Any]]:
    """Per page: p50 at `conns` connections on the smaller and the larger dataset, and the ratio."""
    before = {p["name"]: p for p in small["pages"]}
    out = []
    for page in large["pages"]:
        if not page.get("key", True):
            continue
        old = _run(before.get(page["name"], {}), conns)
        new = _run(page, conns)
        if not old or not new or not old.get("p50_ms"):
            continue
        out.append(
            {
                "name": page["name"],
                "small_ms": old["p50_ms"],
                "large_ms": new["p50_ms"],
                "ratio": new["p50_ms"] / old["p50_ms"],
                "small_queries": before[page["name"]].get("queries"),
                "large_queries": page.get("queries"),
            }
        )
    return out


def growth_table(small: dict[str, Any], large: dict[str, Any], conns: int) -> str:
    rows = [
        [
            "page",
            f"p50 ms, {small['label']}",
            f"p50 ms, {large['label']}",
            "ratio",
            "SQL (small / large)",
        ],
        ["---"] * 5,
    ]
    for g in growth(small, large, conns):
        rows.append(
            [
                g["name"],
                f"{g['small_ms']:.1f}",
                f"{g['large_ms']:.1f}",
                f"{g['ratio']:.2f}",
                f"{g['small_queries']} / {g['large_queries']}",
            ]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def check_budgets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget with PASS/MISS and the pages that miss it (empty `failing` = PASS)."""
    connections = results["settings"]["connections"]
    sizes = results["sizes"]
    main = sizes[-1]
    key_pages = [p for p in main["pages"] if p.get("key", True)]
    mid, hi = connections[len(connections) // 2], connections[-1]
    out: list[dict[str, Any]] = []

    failing = []
    for p in key_pages:
        r = ratio(p, main["reference"], mid)
        if r is None or r < RATIO_MIN:
            failing.append(f"{p['name']} {'-' if r is None else f'{r:.2f}'}")
    out.append(_budget(f">= {RATIO_MIN:.0%} of the reference's req/s at c{mid}", failing))

    failing = []
    for p in key_pages:
        run = _run(p, hi)
        if not run or run["p95_ms"] > P95_MAX_MS or errors(run):
            detail = "no run" if not run else f"{run['p95_ms']:.0f} ms, {errors(run)} errors"
            failing.append(f"{p['name']} {detail}")
    informative = results.get("database") != "postgresql"
    out.append(
        _budget(
            f"p95 <= {P95_MAX_MS:.0f} ms at c{hi}, 0 errors",
            failing,
            note="the issue sets it for PostgreSQL; informative on SQLite" if informative else "",
        )
    )

    if len(sizes) >= 2:
        conns = results["settings"].get("growth_connections", connections[0])
        rows = growth(sizes[0], sizes[-1], conns)
        failing = [f"{g['name']} x{g['ratio']:.2f}" for g in rows if g["ratio"] > GROWTH_MAX]
        out.append(
            _budget(
                f"10x data <= {GROWTH_MAX}x page time (p50 at c{conns})",
                failing,
                note=f"{sizes[0]['label']} -> {sizes[-1]['label']}",
            )
        )
        failing = [
            f"{g['name']} {g['small_queries']}->{g['large_queries']}"
            for g in rows
            if g["small_queries"] != g["large_queries"]
        ]
        out.append(_budget("SQL queries per page fixed whatever the data size", failing))
    else:
        out.append(
            {
                "budget": f"10x data <= {GROWTH_MAX}x page time",
                "pass": None,
                "failing": [],
                "note": "not measured: one dataset size (no `flask seed scale`)",
            }
        )

    weights = results.get("first_load", {})
    failing = [
        f"{name} {_kb(w['total_gzip'])} KB"
        for name, w in weights.items()
        if w["total_gzip"] > FIRST_LOAD_MAX
    ]
    name = "first load of a public page <= 100 KB compressed (htmx incl.)"
    out.append(_budget(name, failing) if weights else _unmeasured(name))

    failing = [
        f"{p['name']} {_kb(p['fragment_gzip'])} KB"
        for p in main["pages"]
        if p.get("fragment_gzip") is not None and p["fragment_gzip"] > FRAGMENT_MAX
    ]
    out.append(_budget("htmx fragments <= 30 KB compressed", failing))

    thumbs = results.get("thumbnails") or {}
    over = thumbs.get("over_budget", [])
    if not thumbs.get("count"):
        out.append(_unmeasured("product thumbnails <= 30 KB"))
        return out
    out.append(
        _budget(
            "product thumbnails <= 30 KB",
            [f"{len(over)} of {thumbs.get('count', 0)} (largest {_kb(thumbs.get('max_bytes'))} KB)"]
            if over
            else [],
            note=f"{thumbs.get('count', 0)} checked, largest {_kb(thumbs.get('max_bytes'))} KB",
        )
    )
    return out


def _unmeasured(name: str) -> dict[str, Any]:
    return {"budget": name, "pass": None, "failing": [], "note": "not measured"}


def _budget(name: str, failing: list[str], note: str = "") -> dict[str, Any]:
    return {"budget": name, "pass": not failing, "failing": failing, "note": note}


def budget_lines(budgets: list[dict[str, Any]]) -> str:
    lines = []
    for b in budgets:
        verdict = {True: "PASS", False: "MISS", None: "----"}[b["pass"]]
        detail = "; ".join(b["failing"])
        extra = " - ".join(x for x in (detail, b.get("note", "")) if x)
        lines.append(f"{verdict}  {b['budget']}" + (f"  ({extra})" if extra else ""))
    return "\n".join(lines)


def first_load_table(weights: dict[str, dict[str, Any]]) -> str:
    rows = [["public page", "HTML", "CSS", "JS (htmx incl.)", "images", "total KB gz"]]
    rows.append(["---"] * len(rows[0]))
    for name, w in weights.items():
        rows.append(
            [
                name,
                _kb(w["html_gzip"]),
                _kb(w["css_gzip"]),
                _kb(w["js_gzip"]),
                f"{_kb(w['images'])} ({w['image_count']})",
                _kb(w["total_gzip"]),
            ]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def render(results: dict[str, Any]) -> str:
    """The whole markdown report: main table, growth, first loads, budgets."""
    connections = results["settings"]["connections"]
    sizes = results["sizes"]
    main = sizes[-1]
    parts = [
        f"### {results['date']} - {results['database']} - {main['label']}",
        "",
        f"Machine: {results['machine']}"
        + (f"; load average {results['loadavg']}." if results.get("loadavg") else "."),
        "",
        main_table(main, connections),
    ]
    if len(sizes) >= 2:
        conns = results["settings"].get("growth_connections", connections[0])
        parts += [
            "",
            f"Growth ({sizes[0]['label']} -> {main['label']}, p50 at c{conns}):",
            "",
            growth_table(sizes[0], main, conns),
        ]
    if results.get("first_load"):
        parts += ["", "First load (compressed KB):", "", first_load_table(results["first_load"])]
    parts += ["", "```", budget_lines(results.get("budgets") or check_budgets(results)), "```"]
    return "\n".join(parts)
