"""Test settings: the real settings: tasks run at once (on commit), fast password hashing."""

from rapidresponse.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run immediately here, so RQ's admin app (added when REDIS_URL is set) is not needed;
# its unmanaged dashboard model has no table, which a whole-database dumpdata would trip on.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django_rq"]  # noqa: F405
