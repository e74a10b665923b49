"""The dependency audit (tools/audit_dependencies.py) fails on a known vulnerability and says
plainly when it could check nothing, instead of passing quietly."""

from __future__ import annotations

from tools.audit_dependencies import verdict

AUDITED = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {"name": "django", "version": "5.2.1",
              "vulns": [{"id": "PYSEC-2025-1", "fix_versions": ["5.2.2"]}]}
NOT_FOUND = {"name": "h3", "skip_reason": "Dependency not found on PyPI and could not be "
                                          "audited: h3 (4.1.0)"}


def test_a_known_vulnerability_fails_with_its_fix():
    code, lines = verdict({"dependencies": [VULNERABLE, AUDITED]}, strict=False)
    assert code == 1
    assert "django 5.2.1: PYSEC-2025-1 (fixed in 5.2.2)" in "\n".join(lines)


def test_a_clean_audit_passes_and_counts():
    code, lines = verdict({"dependencies": [AUDITED, AUDITED]}, strict=True)
    assert code == 0
    assert lines == ["pip-audit: no known vulnerabilities in 2 audited packages."]


def test_nothing_audited_is_said_plainly():
    code, lines = verdict({"dependencies": [NOT_FOUND, NOT_FOUND]}, strict=False)
    assert code == 0
    assert lines[0].startswith("pip-audit: NOTHING WAS AUDITED.")


def test_nothing_audited_fails_when_strict():
    code, _lines = verdict({"dependencies": [NOT_FOUND]}, strict=True)
    assert code == 1


def test_packages_left_out_are_named():
    code, lines = verdict({"dependencies": [AUDITED, NOT_FOUND]}, strict=False)
    assert code == 0
    assert any("h3" in line for line in lines)
