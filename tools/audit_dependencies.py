"""pip-audit over the installed environment, saying plainly what it could not check.

pip-audit asks PyPI's JSON API (https://pypi.org/pypi/NAME/VERSION/json) for the known
vulnerabilities of each installed package. Where that API cannot be reached (offline, or a
mirror that does not serve it), pip-audit reports every package as "not found on PyPI" and
then says "No known vulnerabilities found": a pass that checked nothing. Here:

- a known vulnerability fails (exit 1), with the versions that fix it;
- packages that could not be checked are listed, with a banner when none could be;
  that fails too with AUDIT_STRICT=true (CI on a machine that reaches PyPI should set it),
  otherwise it is a loud warning, so that `make check` still works offline;
- pip-audit itself not running at all (no JSON answer) fails.

Accepted vulnerabilities (none today) go in IGNORED, each with its reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: {vulnerability id: why it does not apply to us}
IGNORED: dict[str, str] = {}


def verdict(report: dict[str, Any], *, strict: bool) -> tuple[int, list[str]]:
    """The exit code and the lines to print for pip-audit's JSON report."""
    found, skipped, audited = [], [], 0
    for dependency in report.get("dependencies", []):
        name, version = dependency.get("name", "?"), dependency.get("version", "?")
        if "skip_reason" in dependency:
            skipped.append(f"  {name}: {dependency['skip_reason']}")
            continue
        audited += 1
        for vuln in dependency.get("vulns", []):
            if vuln.get("id") in IGNORED:
                continue
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            found.append(f"  {name} {version}: {vuln.get('id')} (fixed in {fixes})")
    lines: list[str] = []
    if found:
        lines += ["pip-audit: KNOWN VULNERABILITIES in installed packages:", *found]
    if skipped and audited == 0:
        lines += [
            "pip-audit: NOTHING WAS AUDITED. PyPI's JSON API "
            "(https://pypi.org/pypi/NAME/VERSION/json) answered for none of the "
            f"{len(skipped)} installed packages: this machine cannot reach it, or reaches a "
            "mirror that does not serve it. Run `make audit` where PyPI is reachable; "
            "AUDIT_STRICT=true makes this an error."]
    elif skipped:
        lines += [f"pip-audit: {len(skipped)} package(s) could not be audited:", *skipped]
    if not found and audited:
        lines.append(f"pip-audit: no known vulnerabilities in {audited} audited packages.")
    code = 1 if found or (strict and skipped) else 0
    return code, lines


def main() -> int:
    strict = os.environ.get("AUDIT_STRICT", "").lower() in ("1", "true", "yes")
    pip_audit = Path(sys.executable).with_name("pip-audit")
    try:
        result = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
            [str(pip_audit), "--skip-editable", "--progress-spinner", "off", "--format",
             "json", "--timeout", "10"],
            capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        print("pip-audit: NOTHING WAS AUDITED: PyPI did not answer within 5 minutes.",
              file=sys.stderr)
        return 1 if strict else 0
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print("pip-audit did not run (no report):", file=sys.stderr)
        print(result.stderr.strip()[-2000:], file=sys.stderr)
        return 2
    code, lines = verdict(report, strict=strict)
    for line in lines:
        print(line, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main())
