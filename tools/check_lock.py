"""Does requirements.lock still satisfy pyproject.toml?  Exit 1, saying what is off, if not.

`make lock` writes the lock (exact versions with hashes) from pyproject.toml, whose
dependencies keep their ranges. A requirement added to or changed in pyproject.toml without
running `make lock` would otherwise go unnoticed: `make install` installs the lock, then the
project itself with --no-deps. So `make install` (and with it `make check`, `make test` and
CI) runs this check, and so does tests/test_lock.py. It reads files only, never the network:

- every line of the lock is one exact version (`name==version`) with at least one hash;
- every requirement of pyproject.toml (dependencies, each optional-dependencies group and
  the build-system's requires) is pinned in the lock, at a version within its range, on every
  Python and machine the lock is made for (Linux x86_64 and aarch64, Python 3.11 to 3.14)
  and on this interpreter;
- a requirement with extras (`psycopg[binary]`) also needs what those extras add: read from
  the installed package's metadata on this interpreter when it is installed at the pinned
  version (pip itself refuses a lock that lacks a dependency of a pinned package, but does
  not know which extras the project asked for);
- nothing in the lock is there "via pyproject.toml" that pyproject.toml no longer asks for.

Run it as `python tools/check_lock.py [--pyproject PATH] [--lock PATH]`.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent

# The Pythons and machines the lock is made for (`make lock` resolves for every platform
# from the oldest Python that pyproject.toml allows).
TARGET_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
TARGET_MACHINES = ("x86_64", "aarch64")
FROM_PYPROJECT = "rapidresponse (pyproject.toml)"

Environment = dict[str, str]


@dataclass
class Pin:
    line: int
    requirement: Requirement
    version: Version
    hashes: list[str]
    via: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name)

    def applies(self, env: Environment) -> bool:
        marker = self.requirement.marker
        return marker is None or marker.evaluate(env)


def environments() -> dict[str, Environment]:
    """The marker environments to check, by a label for messages."""
    here = {key: str(value) for key, value in default_environment().items()}
    envs = {f"this Python ({here['python_full_version']})": here}
    for python in TARGET_PYTHONS:
        for machine in TARGET_MACHINES:
            env = dict(here)
            env.update(
                python_version=python, python_full_version=f"{python}.0",
                implementation_name="cpython", implementation_version=f"{python}.0",
                platform_python_implementation="CPython", os_name="posix",
                sys_platform="linux", platform_system="Linux", platform_machine=machine,
                platform_release="", platform_version="",
            )
            envs[f"Python {python} on Linux {machine}"] = env
    return envs


def read_lock(path: Path) -> tuple[list[Pin], list[str]]:
    """The pins of a lock written by `make lock`, and what is wrong with its lines."""
    pins: list[Pin] = []
    problems: list[str] = []
    logical, start = "", 0
    in_via = False
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if logical:
            logical += " " + stripped.rstrip("\\")
            if not stripped.endswith("\\"):
                pin = _parse_pin(logical, start, path.name, problems)
                if pin:
                    pins.append(pin)
                logical = ""
            continue
        if stripped.startswith("#"):
            comment = stripped[1:].strip()
            if comment.startswith("via"):
                parents = comment[3:].strip()
                in_via = not parents
                if parents and pins:
                    pins[-1].via.append(parents)
            elif in_via and pins and comment:
                pins[-1].via.append(comment)
            continue
        in_via = False
        if not stripped:
            continue
        logical, start = stripped.rstrip("\\"), number
        if not stripped.endswith("\\"):
            pin = _parse_pin(logical, start, path.name, problems)
            if pin:
                pins.append(pin)
            logical = ""
    if logical:
        problems.append(f"{path.name}:{start}: the last line ends with a backslash")
    return pins, problems


def _parse_pin(text: str, line: int, lock_name: str, problems: list[str]) -> Pin | None:
    where = f"{lock_name}:{line}"
    head, *hashes = re.split(r"\s+--hash=", " " + text)
    head = head.strip()
    if head.startswith("-"):
        problems.append(f"{where}: an option line ({head.split()[0]}) is not expected in a lock")
        return None
    try:
        requirement = Requirement(head)
    except InvalidRequirement as error:
        problems.append(f"{where}: not a requirement: {head!r} ({error})")
        return None
    specs = list(requirement.specifier)
    if requirement.url or len(specs) != 1 or specs[0].operator not in ("==", "===") \
            or specs[0].version.endswith(".*"):
        problems.append(f"{where}: {head!r} is not one exact version (name==version)")
        return None
    if not hashes:
        problems.append(f"{where}: {requirement.name} has no --hash")
        return None
    try:
        version = Version(specs[0].version)
    except InvalidVersion:
        problems.append(f"{where}: {head!r} has no valid version")
        return None
    return Pin(line, requirement, version, [h.strip() for h in hashes])


def read_pyproject(path: Path) -> tuple[list[Requirement], list[Requirement]]:
    """The project's requirements (dependencies and every extra), and the build's."""
    data = tomllib.loads(path.read_text())
    project = data.get("project", {})
    texts = list(project.get("dependencies", []))
    for group in project.get("optional-dependencies", {}).values():
        texts += group
    build = data.get("build-system", {}).get("requires", [])
    return [Requirement(text) for text in texts], [Requirement(text) for text in build]


def problems(pyproject: Path, lock: Path, *, installed: bool = True) -> list[str]:
    """Everything that keeps `lock` from satisfying `pyproject`; empty when it does.

    With `installed`, the extras of a requirement are also looked up in the metadata of the
    package installed on this interpreter (when that is the pinned version)."""
    pins, found = read_lock(lock)
    project, build = read_pyproject(pyproject)
    by_name: dict[str, list[Pin]] = {}
    for pin in pins:
        by_name.setdefault(pin.name, []).append(pin)

    envs = environments()
    # A message, and the environments where it holds.
    where: dict[str, list[str]] = {}
    for label, env in envs.items():
        for requirement in project + build:
            for message in _unsatisfied(requirement, by_name, env, lock.name, pyproject.name):
                where.setdefault(message, []).append(label)
    for message, labels in where.items():
        found.append(message if len(labels) == len(envs) else f"{message} ({', '.join(labels)})")

    if installed:
        here = next(iter(envs.values()))
        seen: set[tuple[str, str]] = set()
        for requirement in project:
            found += _extras_unsatisfied(requirement, by_name, here, lock.name, seen)

    asked = {canonicalize_name(r.name) for r in project}
    for pin in pins:
        if FROM_PYPROJECT in pin.via and pin.name not in asked:
            found.append(f"{lock.name}:{pin.line}: {pin.name} is locked for pyproject.toml, "
                         "which no longer asks for it")
        if not pin.via and pin.name not in {canonicalize_name(r.name) for r in build}:
            found.append(f"{lock.name}:{pin.line}: {pin.name} is locked for no reason given "
                         "(no '# via' line and not a build requirement)")
    return found


def _unsatisfied(requirement: Requirement, by_name: dict[str, list[Pin]], env: Environment,
                 lock_name: str, source: str) -> Iterable[str]:
    marker = requirement.marker
    if marker is not None and not marker.evaluate(dict(env, extra="")):
        return
    name = canonicalize_name(requirement.name)
    pins = [pin for pin in by_name.get(name, []) if pin.applies(env)]
    if not pins:
        yield f"{source} asks for {requirement} but {lock_name} does not pin {name}"
    elif len(pins) > 1:
        lines = ", ".join(str(pin.line) for pin in pins)
        yield f"{lock_name} pins {name} more than once (lines {lines})"
    elif not requirement.specifier.contains(pins[0].version, prereleases=True):
        yield (f"{source} asks for {requirement} but {lock_name}:{pins[0].line} "
               f"pins {name}=={pins[0].version}")


def _extras_unsatisfied(requirement: Requirement, by_name: dict[str, list[Pin]],
                        env: Environment, lock_name: str,
                        seen: set[tuple[str, str]]) -> list[str]:
    """What the extras of `requirement` add, checked against the lock (recursively)."""
    found: list[str] = []
    name = canonicalize_name(requirement.name)
    pins = [pin for pin in by_name.get(name, []) if pin.applies(env)]
    if len(pins) != 1:
        return found  # already reported
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return found
    if Version(dist.version) != pins[0].version:
        return found  # not installed from this lock: nothing to read
    for extra in sorted(requirement.extras):
        if (name, extra) in seen:
            continue
        seen.add((name, extra))
        for text in dist.requires or []:
            needed = Requirement(text)
            marker = needed.marker
            # Only what the extra adds: the package's own requirements are pip's to check.
            if marker is None or not marker.evaluate(dict(env, extra=extra)) \
                    or marker.evaluate(dict(env, extra="")):
                continue
            needed.marker = None
            found += _unsatisfied(needed, by_name, env, lock_name, f"{name}[{extra}]")
            found += _extras_unsatisfied(needed, by_name, env, lock_name, seen)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    args = parser.parse_args(argv)
    found = problems(args.pyproject, args.lock)
    if found:
        print(f"{args.lock.name} does not satisfy {args.pyproject.name}:", file=sys.stderr)
        for message in found:
            print(f"  - {message}", file=sys.stderr)
        print("Update the lock with `make lock` (see README, Development).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
