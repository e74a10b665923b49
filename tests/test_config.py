"""Configuration: every variable is documented, production refuses to start without secrets."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from rapidresponse.accounts.models import Staff

ROOT = Path(__file__).resolve().parent.parent


def settings_variables() -> set[str]:
    text = (ROOT / "rapidresponse" / "settings.py").read_text()
    names = set(re.findall(r'env_(?:str|int|bool|list)\("([A-Z_]+)"', text))
    names |= set(re.findall(r'secret\("([A-Z_]+)"\)', text))
    names |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', text))
    names |= set(re.findall(r'_channel_backend\("\w+", "([A-Z_]+)"\)', text))
    return names


def test_every_setting_is_in_env_example():
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert settings_variables() - listed == set()


def test_every_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in settings_variables() if f"`{name}`" not in readme}
    assert missing == set()


def test_production_without_secrets_fails_loudly(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY",
                        "REPORTER_INDEX_KEY")}
    env.update(RR_ENV="production", RR_VAR_DIR=str(tmp_path),
               DJANGO_SETTINGS_MODULE="rapidresponse.settings")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when RR_ENV=production" in result.stderr
    assert not (tmp_path / "secrets.json").exists()


def test_create_staff_without_prompts(db):
    call_command("create_staff", "ana", "--role", "verifier", "--password", "long-enough-1",
                 "--on-call")
    staff = Staff.objects.get(user__username="ana")
    assert staff.role == "verifier" and staff.on_call
    assert authenticate(username="ana", password="long-enough-1") == staff.user


def test_create_staff_rejects_unknown_role(db):
    with pytest.raises(CommandError):
        call_command("create_staff", "ana", "--role", "sheriff", "--password", "long-enough-1")


def test_create_staff_rejects_short_password(db):
    with pytest.raises(CommandError, match="at least 8"):
        call_command("create_staff", "ana", "--role", "dispatcher", "--password", "short")
