"""The claims ledger (book/claims.md) names tests that exist, so it cannot drift as tests change."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEDGER = (ROOT / "book" / "claims.md").read_text()
ENTRY = re.compile(r"^\s*- `(test_\w+\.py)`: (.+)$", re.MULTILINE)


def cited_tests() -> list[tuple[str, str]]:
    return [(file, name) for file, names in ENTRY.findall(LEDGER)
            for name in re.findall(r"`(test_\w+)`", names)]


def test_ledger_cites_many_tests():
    assert len(cited_tests()) >= 30, "the ledger's test lists were not found: has its format changed?"


def test_every_cited_test_exists():
    missing = []
    for file, name in cited_tests():
        path = ROOT / "tests" / file
        if not path.is_file() or not re.search(rf"^def {name}\(", path.read_text(), re.MULTILINE):
            missing.append(f"{file}::{name}")
    assert not missing, f"book/claims.md cites tests that do not exist: {missing}"
