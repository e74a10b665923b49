"""The tree stays easy to read: modules under ~600 lines, the outbox's under 400."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "rapidresponse"


def _lines(path: Path) -> int:
    return sum(1 for _ in path.open(encoding="utf-8"))


def test_no_module_is_over_600_lines():
    long = {str(p.relative_to(ROOT)): _lines(p) for p in ROOT.rglob("*.py")
            if "migrations" not in p.parts and _lines(p) > 600}
    assert long == {}


def test_the_outbox_modules_are_under_400_lines():
    package = ROOT / "delivery" / "outbox"
    assert package.is_dir()
    long = {p.name: _lines(p) for p in package.glob("*.py") if _lines(p) > 400}
    assert long == {}
