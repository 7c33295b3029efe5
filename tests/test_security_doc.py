"""SECURITY.md stays true: every test it names exists, and every ASVS row is proven or waived.

SECURITY.md maps each OWASP ASVS 5.0 requirement to the test that proves it. A renamed or deleted
test would leave a claim without its proof, and a row quietly dropped would shrink the map; both
fail here, listing every problem at once. The parsing is plain text and `ast`: no test is run or
imported, so this stays fast.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "SECURITY.md"

# A test reference: `tests/<path>.py::<name>` (the name of a function, method or parametrised test).
TEST_REF = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
# A requirement row of a chapter table: its first cell starts with an id such as 6.2.12.
ROW = re.compile(r"^\|\s*(\d+)\.(\d+)\.(\d+)\b")
CHAPTER = re.compile(r"^###\s+V(\d+)\b")
# What a row may say instead of naming a test.
WAIVED = ("Waiver:", "N/A:")
PENDING = "test pending"
# The chapters of ASVS 5.0 the portal must map (V4, V9, V10 and V17 do not apply: one line each).
CHAPTERS = {1, 2, 3, 5, 6, 7, 8, 11, 12, 13, 14, 15, 16}
NOT_APPLICABLE = {4: "API and Web Service", 9: "Self-contained Tokens", 10: "OAuth", 17: "WebRTC"}
MIN_ROWS = 100


@dataclass(frozen=True)
class Row:
    chapter: int | None
    requirement: str
    line: int
    proven_by: str


def parse(text: str) -> list[Row]:
    """The requirement rows of the chapter tables, with the chapter heading they sit under."""
    rows, chapter = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        heading = CHAPTER.match(line)
        if heading:
            chapter = int(heading.group(1))
            continue
        match = ROW.match(line)
        if match:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows.append(Row(chapter, ".".join(match.groups()), number, cells[-1]))
    return rows


@cache
def _defined_names(path: Path) -> frozenset[str]:
    """Every function and method name defined anywhere in a test file (classes included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )


def missing_tests(text: str, root: Path = ROOT) -> list[str]:
    """`tests/x.py::name` references whose file is missing or defines no `name`."""
    problems = []
    for file, name in sorted(set(TEST_REF.findall(text))):
        path = root / file
        if not path.is_file():
            problems.append(f"{file}::{name}: no such file")
        elif name not in _defined_names(path):
            problems.append(f"{file}::{name}: no `def {name}(` in the file")
    return problems


def unproven_rows(rows: list[Row]) -> list[str]:
    """Rows whose last cell names no test and is neither a waiver nor N/A, or is still pending."""
    problems = []
    for row in rows:
        cell = row.proven_by
        if PENDING in cell.lower():
            problems.append(f"line {row.line}, {row.requirement}: the test is still pending")
        elif not TEST_REF.search(cell) and not cell.startswith(WAIVED):
            problems.append(
                f"line {row.line}, {row.requirement}: names no test and is not a Waiver:/N/A:"
            )
    return problems


def misplaced_rows(rows: list[Row]) -> list[str]:
    """Rows outside a chapter heading, under the wrong chapter, or listed twice."""
    problems, seen = [], {}
    for row in rows:
        if row.chapter is None or int(row.requirement.split(".")[0]) != row.chapter:
            problems.append(f"line {row.line}, {row.requirement}: not under its V{row.chapter}")
        first = seen.setdefault(row.requirement, row.line)
        if first != row.line:
            problems.append(f"line {row.line}, {row.requirement}: already listed on line {first}")
    return problems


def test_every_test_named_in_security_md_exists():
    problems = missing_tests(DOC.read_text(encoding="utf-8"))
    assert not problems, "SECURITY.md names tests that do not exist:\n" + "\n".join(problems)


def test_every_requirement_row_is_proven_or_waived():
    rows = parse(DOC.read_text(encoding="utf-8"))
    problems = unproven_rows(rows) + misplaced_rows(rows)
    assert not problems, "SECURITY.md rows without a proof:\n" + "\n".join(problems)


def test_the_map_covers_every_chapter_and_cannot_silently_shrink():
    text = DOC.read_text(encoding="utf-8")
    rows = parse(text)
    assert len(rows) >= MIN_ROWS, f"only {len(rows)} requirement rows; expected {MIN_ROWS}+"
    assert {row.chapter for row in rows} == CHAPTERS
    for number, name in NOT_APPLICABLE.items():
        assert re.search(rf"\*\*V{number} [^*]*{name}", text), f"V{number} needs its one line"


def test_the_checks_catch_a_wrong_name_a_bare_row_and_a_pending_one(tmp_path):
    """The checks are not blind: a made-up document with each mistake is refused."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "import pytest\n\nclass TestThing:\n    def test_in_a_class(self):\n        pass\n\n"
        "@pytest.mark.parametrize('n', [1])\ndef test_real(n):\n    pass\n"
    )
    text = "\n".join(
        [
            "### V6 Authentication",
            "| 6.1.1 (L1) | a | b | `tests/test_x.py::test_real` |",
            "| 6.1.2 (L2) | a | b | `tests/test_x.py::test_in_a_class` |",
            "| 6.1.3 (L2) | a | b | `tests/test_x.py::test_renamed` |",
            "| 6.2.1 (L1) | a | b | `tests/test_gone.py::test_real` |",
            "| 6.2.2 (L1) | a | b | it works, trust us |",
            "| 6.2.3 (L1) | a | b | Proven by: (test pending) |",
            "| 6.2.4 (L1) | a | b | N/A: no such feature |",
            "| 7.1.1 (L2) | a | b | Waiver: operator duty |",
            "| 6.2.4 (L1) | a | b | Waiver: listed twice |",
        ]
    )
    assert missing_tests(text, tmp_path) == [
        "tests/test_gone.py::test_real: no such file",
        "tests/test_x.py::test_renamed: no `def test_renamed(` in the file",
    ]
    rows = parse(text)
    assert [p.split(":")[0] for p in unproven_rows(rows)] == ["line 6, 6.2.2", "line 7, 6.2.3"]
    assert [p.split(":")[0] for p in misplaced_rows(rows)] == ["line 9, 7.1.1", "line 10, 6.2.4"]
