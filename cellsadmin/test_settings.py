"""Settings for the test suite: the production settings with cheap password hashing and scratch storage."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.contrib.auth.hashers import Argon2PasswordHasher

# The suite's secrets, in the environment: the settings take them from there as an instance on a database server
# must, and the commands and servers the tests start (when they keep the environment) share them.
os.environ.setdefault("SECRET_KEY", "test-secret-key-Wd7xQ2pL9vRk4sTn8yBc3mZf6hJg1aEu5oYi0")
os.environ.setdefault("TOKEN_PEPPERS", "1:test-pepper-one")
# Each pytest-xdist worker has a Redis database of its own (the next ones after REDIS_URL's), shared with the
# servers it starts: the cache a worker clears between its tests holds nobody else's counters.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_redis_base, _, _redis_db = os.environ.get("REDIS_URL", "").rpartition("/")
if _worker.startswith("gw") and _worker[2:].isdigit() and _redis_base and _redis_db.isdigit():
    os.environ["REDIS_URL"] = f"{_redis_base}/{int(_redis_db) + 1 + int(_worker[2:])}"

from cellsadmin.settings import *  # noqa: F403, E402 (after the environment it reads is set)


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id with minimal cost: the algorithm under test stays the same, the suite stays fast."""

    time_cost = 1
    memory_cost = 8
    parallelism = 1


PASSWORD_HASHERS = ["cellsadmin.test_settings.CheapArgon2PasswordHasher"]

_scratch = Path(tempfile.mkdtemp(prefix="cellsadmin-test-"))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(_scratch / "files")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_TEMP_DIR = _scratch / "tmp"
FILE_UPLOAD_TEMP_DIR.mkdir()
# In-process tests need no cache shared with other processes (the server processes they start use the
# production settings); memory is faster and leaves nothing behind.
if not REDIS_URL:  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
