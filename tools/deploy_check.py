"""`manage.py check --deploy --fail-level WARNING` with production settings.

RR_ENV=production refuses to start without its secrets; here each one that settings.py asks
for (`secret("NAME")`) gets a throwaway value made the way a laptop makes its own
(rapidresponse/lib/secrets.py), in a scratch directory that is removed afterwards, with a
made-up host name. Whatever the environment already sets (a real deployment's values) wins.

Run it as `python tools/deploy_check.py` (`make deploy-check`, a CI step, and
tests/test_security_headers.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidresponse.lib.secrets import embedded_secret  # noqa: E402 - after the path

HOST = "alerts.example.org"


def secret_names() -> list[str]:
    text = (ROOT / "rapidresponse" / "settings.py").read_text()
    return sorted(set(re.findall(r'secret\("([A-Z_]+)"\)', text)))


def production_env(scratch: Path) -> dict[str, str]:
    env = {"RR_ENV": "production", "RR_VAR_DIR": str(scratch),
           "DJANGO_SETTINGS_MODULE": "rapidresponse.settings",
           "ALLOWED_HOSTS": HOST, "PUBLIC_URL": f"https://{HOST}",
           "CSRF_TRUSTED_ORIGINS": f"https://{HOST}"}
    made = Path(scratch) / "throwaway"
    env.update({name: embedded_secret(made, name) for name in secret_names()})
    env.update({k: v for k, v in os.environ.items()
                if k not in ("RR_ENV", "RR_VAR_DIR", "DJANGO_SETTINGS_MODULE")})
    return env


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        return subprocess.call(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, str(ROOT / "manage.py"), "check", "--deploy",
             "--fail-level", "WARNING"], env=production_env(Path(scratch)), cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
