"""``make bench-instructions``: what one small-file upload costs in process, counted in CPU instructions.

For every file it uploads, rclone sends three requests: MKCOL on the folder (405, it exists), PUT and a
PROPFIND Depth 0 of the new file. This replays that cycle against cellsadmin's WSGI application and against
stock WsgiDAV's filesystem provider, each in its own process under valgrind (callgrind), and reports
instructions per file. Unlike seconds, the count does not move when the machine is busy, so a change of a few
percent shows in one run. It counts what runs in process (Python, SQLite), not the kernel's work or a
network's. Results: ``bench/results/instructions.json`` and ``instructions.md``.
"""

from __future__ import annotations

import base64
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work-instructions"
RESULTS = ROOT / "bench" / "results"
FILES = int(os.environ.get("BENCH_FILES", "100"))
WARM_UP = 20
PASSWORD = "bench-password"
# rclone's own (backend/webdav), sent after every upload.
PROPFIND = (
    b'<?xml version="1.0"?>\n<d:propfind xmlns:d="DAV:">\n <d:prop>\n  <d:displayname/>\n  <d:getlastmodified/>\n'
    b"  <d:getcontentlength/>\n  <d:resourcetype/>\n </d:prop>\n</d:propfind>\n"
)


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cellsadmin.settings",
        "DATA_DIR": str(WORK / "data"),
        "DEMO_PASSWORD": PASSWORD,
        "AUTH_FAILURE_LIMIT": "1000000",
        "LOG_LEVEL": "WARNING",
        "STOCK_DAV_ROOT": str(WORK / "fs"),
        "STOCK_DAV_PASSWORD": PASSWORD,
    }


# --- the child: one server, warmed up, then ``count`` upload cycles ------------------------------------------


def _caller(app: Callable[..., Any], authorization: str) -> Callable[..., str]:
    def call(method: str, path: str, body: bytes = b"", **headers: str) -> str:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": authorization,
            "HTTP_USER_AGENT": "rclone/v1.7",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            **headers,
        }
        statuses: list[str] = []
        result = app(environ, lambda status, _headers, _exc_info=None: statuses.append(status))
        b"".join(result)
        if hasattr(result, "close"):
            result.close()
        return statuses[0]

    return call


def child(server: str, count: int) -> None:
    os.environ.update(_environment())
    sys.path.insert(0, str(ROOT))
    if server == "ours":
        from cellsadmin.wsgi import application

        token = (WORK / "token").read_text()
        call = _caller(application, "Basic " + base64.b64encode(f"alice:{token}".encode()).decode())
        folder = f"/dav/common/upload-{time.time_ns()}/"
    else:
        from bench.stock_wsgidav import app

        call = _caller(app, "Basic " + base64.b64encode(f"bench:{PASSWORD}".encode()).decode())
        folder = f"/upload-{time.time_ns()}/"
    assert call("MKCOL", folder).startswith("201")
    body = os.urandom(1024)
    for index in range(WARM_UP + count):
        path = f"{folder}f{index:05}.bin"
        statuses = (
            call("MKCOL", folder),
            call("PUT", path, body, CONTENT_TYPE="application/octet-stream"),
            call("PROPFIND", path, PROPFIND, HTTP_DEPTH="0", CONTENT_TYPE="application/xml"),
        )
        assert [status[:3] for status in statuses] == ["405", "201", "207"], statuses


# --- the driver -------------------------------------------------------------------------------------------------


def _instructions(server: str, count: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        server,
        str(count),
    ]
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True, check=False, cwd=ROOT)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{server} under valgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def _set_up() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "fs").mkdir(parents=True)
    sys.path.insert(0, str(ROOT))
    from bench.run import setup_project

    (WORK / "token").write_text(setup_project(_environment(), listing=False)["token"])


def main() -> int:
    if shutil.which("valgrind") is None:
        print("bench-instructions needs valgrind (make bench-instructions installs Debian's)", file=sys.stderr)
        return 1
    _set_up()
    per_file: dict[str, float] = {}
    for server in ("ours", "stock"):
        print(f"{server}: {FILES} upload cycles under valgrind …", flush=True)
        # The difference of two runs leaves out start-up, imports and the warm-up.
        extra = _instructions(server, FILES) - _instructions(server, 0)
        per_file[server] = extra / FILES
    results = {
        "dav.upload_cycle_instructions": round(per_file["ours"]),
        "dav.upload_cycle_stock_instructions": round(per_file["stock"]),
        "dav.upload_cycle_ratio": round(per_file["ours"] / per_file["stock"], 3),
    }
    machine = f"{platform.node()} · {platform.machine()} · Python {platform.python_version()}"
    measured_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    payload = {"machine": machine, "measured_at": measured_at, "files": FILES, "results": results}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "instructions.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        f"Measured {measured_at} on {machine}; {FILES} cycles of MKCOL + PUT (1 KiB) + PROPFIND Depth 0.",
        "",
        "| metric | value |",
        "| --- | ---: |",
        *[f"| `{name}` | {value:,} |" for name, value in results.items()],
    ]
    (RESULTS / "instructions.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
