"""`make bench`'s own parts: the Fortunes reference, the loopback nginx config, the report.

The benchmark itself is not a test (it runs in `make bench`); these check that what it measures
and prints is right, quickly and on SQLite.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

from bench import report
from bench.fortunes import ADDED, MESSAGES, create_app, db, install
from bench.nginx import PRODUCTION_CONFIG, Loopback, loopback_config, nginx_command, write_config


def test_fortunes_page_renders_13_rows_sorted_with_the_script_escaped(tmp_path: Path):
    app = create_app(f"sqlite:///{tmp_path}/fortunes.db")
    with app.app_context():
        install(db.engine)
        install(db.engine)  # a second bench run on the same database keeps 12 rows
        db.engine.dispose()

    response = app.test_client().get("/fortunes")

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    cells = re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", body)
    messages = [html.unescape(message) for _id, message in cells]
    assert len(cells) == 13
    assert messages == sorted([*MESSAGES, ADDED])
    assert ("0", ADDED) in cells
    assert "<script>" not in body
    assert "&lt;script&gt;alert(" in body


def _where(tmp_path: Path) -> Loopback:
    return Loopback(
        portal_port=18080,
        reference_port=18081,
        portal_upstream=18000,
        reference_upstream=18001,
        prefix=tmp_path / "nginx",
    )


def test_loopback_config_is_the_documented_file_on_the_loopback(tmp_path: Path):
    where = _where(tmp_path)
    path = write_config(where)
    text = path.read_text()
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())

    # The portal and the reference each behind their own loopback port and upstream.
    assert "listen 127.0.0.1:18080;" in code
    assert "listen 127.0.0.1:18081;" in code
    assert "server 127.0.0.1:18000;" in code
    assert "upstream fortunes" in code and "server 127.0.0.1:18001;" in code
    assert not re.search(r"listen\s+(80|\[::\])", code)
    # Everything nginx writes stays in the bench's directory; static files from this checkout.
    assert f"pid {where.prefix}/nginx.pid;" in code
    assert f"proxy_cache_path {where.prefix}/cache/portal-photos" in code
    assert f"root {Path(__file__).resolve().parent.parent};" in code
    assert "/var/" not in code and "/run/" not in code and "/srv/portal" not in code
    # The production settings that are measured come through unchanged, in both servers.
    for setting in (
        "gzip on;",
        "gzip_proxied any;",
        "client_max_body_size 16m;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        'add_header Cache-Control "public, max-age=31536000, immutable" always;',
    ):
        assert setting in code
    assert code.count("proxy_read_timeout 35s;") == 2

    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )
    if nginx:
        done = subprocess.run(nginx_command(path, "-t"), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_uncommented_tls_lines_are_dropped_for_the_loopback(tmp_path: Path):
    production = PRODUCTION_CONFIG.read_text()
    with_tls = re.sub(r"(?m)^(\s*)# ((listen .*443|ssl_\w+) .*)$", r"\1\2", production)
    assert "\n        listen 443 ssl http2;" in with_tls  # the TLS lines were switched on

    code = loopback_config(with_tls, _where(tmp_path))

    assert "443" not in code
    assert not re.search(r"(?m)^\s*ssl_", code)


def _run(rps: float, p95: float, errors: int = 0) -> dict:
    return {
        "rps": rps,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "p99_ms": p95 * 1.5,
        "status_errors": errors,
        "socket_errors": 0,
    }


def _sample() -> dict:
    def size(label: str, slow: float) -> dict:
        return {
            "label": label,
            "reference": {"1": _run(1000, 2), "16": _run(2000, 10), "50": _run(2000, 30)},
            "pages": [
                {
                    "name": "home",
                    "queries": 2,
                    "bytes_raw": 10240,
                    "bytes_gzip": 3072,
                    "fragment_gzip": 1024,
                    "runs": {"1": _run(500, 4), "16": _run(1200, 20), "50": _run(1200, 60)},
                },
                {
                    "name": "catalogue",
                    "queries": 5,
                    "bytes_raw": 40960,
                    "bytes_gzip": 8192,
                    "fragment_gzip": 40 * 1024,
                    "runs": {
                        "1": _run(100, 20 * slow),
                        "16": _run(300, 90),
                        "50": _run(300, 250, errors=3),
                    },
                },
            ],
        }

    return {
        "date": "2026-11-22 22:00 UTC",
        "database": "postgresql",
        "machine": "2 CPU",
        "settings": {"connections": [1, 16, 50], "growth_connections": 1},
        "sizes": [size("10.000 products", 1), size("100.000 products", 2)],
        "first_load": {
            "home": {
                "html_gzip": 3072,
                "css_gzip": 6000,
                "js_gzip": 20000,
                "images": 0,
                "image_count": 0,
                "total_gzip": 29072,
            }
        },
        "thumbnails": {"count": 24, "max_bytes": 5000, "over_budget": []},
    }


def test_report_table_ratios_and_budgets_on_a_small_sample():
    results = _sample()

    text = report.render(results)

    lines = text.splitlines()
    home = next(line for line in lines if line.startswith("| home |"))
    catalogue = next(line for line in lines if line.startswith("| catalogue |"))
    assert home.split(" | ")[1:5] == ["500", "1,200", "1,200", "0.60"]
    assert catalogue.split(" | ")[4] == "0.15"  # 300 / 2000 req/s at 16 connections
    assert "| 3 | 5 | 40.0 / 8.0 | 40.0 |" in catalogue  # errors, SQL, KB raw/gz, fragment
    assert "| catalogue | 10.0 | 20.0 | 2.00 | 5 / 5 |" in text  # growth: p50 doubled

    verdicts = {b["budget"]: b for b in report.check_budgets(results)}
    ratio = verdicts[">= 50% of the reference's req/s at c16"]
    assert ratio["pass"] is False and ratio["failing"] == ["catalogue 0.15"]
    assert verdicts["p95 <= 100 ms at c50, 0 errors"]["failing"] == ["catalogue 250 ms, 3 errors"]
    assert verdicts["10x data <= 1.5x page time (p50 at c1)"]["failing"] == ["catalogue x2.00"]
    assert verdicts["SQL queries per page fixed whatever the data size"]["pass"] is True
    assert verdicts["htmx fragments <= 30 KB compressed"]["failing"] == ["catalogue 40.0 KB"]
    assert verdicts["first load of a public page <= 100 KB compressed (htmx incl.)"]["pass"]
    assert "MISS  >= 50% of the reference's req/s at c16  (catalogue 0.15)" in text
    assert "PASS  product thumbnails <= 30 KB" in text


def test_bench_reads_the_heaviest_accounts_from_the_scale_seed_output():
    from bench.run import scale_samples

    output = [
        "Total: 18.0 s\n",
        "Ledger OK: every transaction sums to zero and every balance matches its entries.\n",
        "Accounts to try (the demo password; staff use the demo TOTP secret):\n",
        "  warga55@scale.test                       resident with the most SADOKU requests (51)\n",
        "  081900002799                             resident with the longest wallet statement "
        "(135 entries)\n",
        "  petugas.unit54@scale.test                officer of the busiest unit (3849 pickups)\n",
        "  petugas.sadoku45@scale.test              SADOKU officer\n",
        "  /mall/shops/tambak-mariani-654 shop with the most products (288)\n",
    ]

    samples = scale_samples(output)

    assert samples["sadoku_resident"][0] == "warga55@scale.test"
    assert samples["wallet_resident"][0] == "081900002799"
    assert samples["unit_officer"] == (
        "petugas.unit54@scale.test",
        "officer of the busiest unit (3849 pickups)",
    )
    assert samples["sadoku_officer"][0] == "petugas.sadoku45@scale.test"
    assert samples["shop"][0] == "/mall/shops/tambak-mariani-654"
    assert scale_samples(output[:2]) == {}  # an older seed without the list: demo accounts
