"""`make audit`'s own parts: reading a Lighthouse report, the budgets, the markdown, the command.

Lighthouse itself runs only in `make audit` (Chromium, nginx, npm); these check, on small
hand-written reports, that what the audit reads, judges and prints is right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import audit


def _lhr(
    performance: float | None = 0.97,
    accessibility: float | None = 1.0,
    best_practices: float | None = 0.96,
    lcp: float = 2350.4,
    cls: float = 0.0123,
) -> dict[str, Any]:
    """A Lighthouse report cut down to what bench/audit.py reads (LHR 12 field names)."""
    return {
        "lighthouseVersion": "12.8.2",
        "environment": {"benchmarkIndex": 2500},
        "runWarnings": [],
        "categories": {
            "performance": {
                "score": performance,
                "auditRefs": [
                    {"id": "first-contentful-paint", "weight": 10},
                    {"id": "largest-contentful-paint", "weight": 25},
                    {"id": "total-blocking-time", "weight": 30},
                    {"id": "cumulative-layout-shift", "weight": 25},
                    {"id": "render-blocking-resources", "weight": 0},
                ],
            },
            "accessibility": {
                "score": accessibility,
                "auditRefs": [
                    {"id": "color-contrast", "weight": 7},
                    {"id": "label", "weight": 7},
                    {"id": "region", "weight": 0},  # weight 0: informative, costs nothing
                ],
            },
            "best-practices": {
                "score": best_practices,
                "auditRefs": [{"id": "errors-in-console", "weight": 1}],
            },
        },
        "audits": {
            "first-contentful-paint": {"score": 0.99, "numericValue": 812.6},
            "largest-contentful-paint": {"score": 0.8, "numericValue": lcp},
            "total-blocking-time": {"score": 1, "numericValue": 37.2},
            "cumulative-layout-shift": {"score": 1, "numericValue": cls},
            "render-blocking-resources": {"score": 0, "numericValue": 300},
            "total-byte-weight": {"score": 1, "numericValue": 116132},
            "color-contrast": {"score": 0},
            "label": {"score": 1},
            "region": {"score": 0},
            "errors-in-console": {"score": None},
        },
    }


def test_a_report_gives_scores_out_of_100_metrics_and_the_audits_that_cost_points():
    row = audit.parse_report(_lhr())

    assert (row["performance"], row["accessibility"], row["best_practices"]) == (97, 100, 96)
    assert row["lcp_ms"] == pytest.approx(2350.4)
    assert row["fcp_ms"] == pytest.approx(812.6)
    assert row["tbt_ms"] == pytest.approx(37.2)
    assert row["cls"] == pytest.approx(0.0123)
    assert row["transfer_bytes"] == 116132
    assert row["benchmark_index"] == 2500
    # 0.57 * 100 is 56.99999999999999 in floating point: rounded, not truncated.
    assert audit.parse_report(_lhr(best_practices=0.57))["best_practices"] == 57
    # A weighted audit that failed is named; weight-0 and unscored ones are not; a performance
    # metric counts only below 0.9.
    assert row["failing_audits"] == {
        "performance": ["largest-contentful-paint"],
        "accessibility": ["color-contrast"],
    }


def test_a_category_lighthouse_could_not_score_is_none_not_zero():
    lhr = _lhr(performance=None)
    del lhr["audits"]["largest-contentful-paint"]

    row = audit.parse_report(lhr)

    assert row["performance"] is None
    assert row["lcp_ms"] is None


def test_the_run_with_the_median_performance_score_is_kept():
    runs = [
        audit.parse_report(_lhr(performance=p, lcp=lcp))
        for p, lcp in ((0.9, 3100), (0.99, 1900), (0.95, 2400))
    ]

    kept = audit.median_run(runs)

    assert kept["performance"] == 95
    assert kept["lcp_ms"] == 2400
    assert kept["performance_runs"] == [90, 99, 95]


def _row(page: str, profile: str, **lhr: Any) -> dict[str, Any]:
    return {"page": page, "path": "/", "profile": profile, **audit.parse_report(_lhr(**lhr))}


def test_budgets_pass_when_every_page_meets_them_even_at_the_limits():
    rows = [
        _row("home", "mobile", lcp=2400),
        _row("home", "3g", lcp=3900),
        _row("login", "mobile", performance=0.95, best_practices=0.95, lcp=2500, cls=0.1),
        _row("login", "3g", lcp=4000),
    ]

    budgets = audit.check_budgets(rows)

    assert [b["pass"] for b in budgets] == [True] * 6
    assert all(not b["failing"] for b in budgets)


def test_budgets_name_the_page_and_profile_that_miss_each_one():
    rows = [
        _row("home", "mobile"),
        _row("catalogue", "3g", performance=0.94, lcp=4200),
        _row("login", "mobile", accessibility=0.98, best_practices=0.92, lcp=2600, cls=0.15),
        _row("shop", "3g", lcp=3900),  # 3.9 s is within 3G's 4 s, though not mobile's 2.5 s
    ]

    budgets = {b["budget"]: b for b in audit.check_budgets(rows)}

    assert budgets["performance >= 95"]["failing"] == ["catalogue (3g) 94"]
    assert budgets["accessibility 100"]["failing"] == ["login (mobile) 98"]
    assert budgets["best practices >= 95"]["failing"] == ["login (mobile) 92"]
    mobile_lcp = next(b for name, b in budgets.items() if name.startswith("LCP <= 2.5 s"))
    three_g_lcp = next(b for name, b in budgets.items() if name.startswith("LCP <= 4 s"))
    assert mobile_lcp["failing"] == ["login 2.60 s"]
    assert three_g_lcp["failing"] == ["catalogue 4.20 s"]
    assert budgets["CLS <= 0.1"]["failing"] == ["login (mobile) 0.150"]
    assert all(b["pass"] is (not b["failing"]) for b in budgets.values())


def test_a_missing_score_misses_its_budget():
    budgets = audit.check_budgets([_row("prices", "mobile", accessibility=None)])

    a11y = next(b for b in budgets if b["budget"] == "accessibility 100")
    assert a11y["pass"] is False
    assert a11y["failing"] == ["prices (mobile) -"]


def test_the_markdown_has_a_row_per_page_and_profile_and_the_verdicts():
    rows = [_row("home", "mobile"), _row("catalogue", "3g", performance=0.94, lcp=2900)]
    results = {
        "date": "2026-11-22 10:00 UTC",
        "lighthouse": "12.8.2",
        "machine": "2 CPU (test)",
        "pages": rows,
    }

    text = audit.render(results)

    assert "### 2026-11-22 10:00 UTC - Lighthouse 12.8.2" in text
    assert "Machine: 2 CPU (test)." in text
    assert "| page | profile | perf | a11y | best pr. | FCP s | LCP s | TBT ms | CLS | KB |" in text
    assert "| home | mobile | 97 | 100 | 96 | 0.81 | 2.35 | 37 | 0.012 | 113.4 |" in text
    assert "| catalogue | 3g | 94 | 100 | 96 | 0.81 | 2.90 | 37 | 0.012 | 113.4 |" in text
    assert (
        "- catalogue (3g): performance: largest-contentful-paint; accessibility: color-contrast"
        in text
    )
    assert "MISS  performance >= 95  (catalogue (3g) 94)" in text
    assert "PASS  CLS <= 0.1" in text


def test_the_3g_profile_passes_the_issue_throttling_and_mobile_keeps_the_defaults(tmp_path: Path):
    out = tmp_path / "report.json"

    three_g = audit.lighthouse_command(
        Path("cli.js"), "http://x/", audit.PROFILES["3g"], out, root=True
    )
    mobile = audit.lighthouse_command(
        Path("cli.js"), "http://x/", audit.PROFILES["mobile"], out, root=False
    )

    assert "--throttling.rttMs=300" in three_g
    assert "--throttling.throughputKbps=700" in three_g
    assert "--throttling.cpuSlowdownMultiplier=4" in three_g
    assert not [flag for flag in mobile if flag.startswith("--throttling")]
    assert "--only-categories=performance,accessibility,best-practices" in mobile
    assert f"--output-path={out}" in mobile
    # Chromium's sandbox cannot start as root, and stays on otherwise.
    assert "--chrome-flags=--headless=new --no-sandbox" in three_g
    assert "--chrome-flags=--headless=new" in mobile
