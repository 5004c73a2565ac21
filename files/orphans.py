"""Collecting the blobs that no node points at: what a crash or an unreachable store left behind.

Every write stores a new blob before the node points at it, and removes the blob it replaced only after that
commit (``files.services``), so a blob is orphaned only when that removal did not happen: the process died
between the two (a blob no row references), or the store could not be reached to remove it
(``files.blobs.discard`` logs it and carries on). An object store may also keep an incomplete multipart
upload whose abort did not reach it. None of these is ever read (nothing points at it), and :func:`collect`
removes them once they are older than a grace period: a blob younger than that may belong to an upload still
on its way to its node, which commits only after the whole body has been stored.

The parts of a file uploaded in parts (``files.partial_uploads``) are kept blobs until the upload completes;
an upload started longer than the grace period ago and never completed or aborted is abandoned, and goes with
its parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from files import partial_uploads
from files.blobs import FOLDER, discard
from files.models import Node, PartialUpload, UploadPart
from files.object_storage import ObjectStorage

#: How old an unreferenced blob must be before it is removed, unless told otherwise.
GRACE = timedelta(hours=24)


@dataclass
class Collected:
    blobs: list[str] = field(default_factory=list)
    #: Incomplete multipart uploads (object store only), by key.
    uploads: list[str] = field(default_factory=list)
    #: Abandoned partial uploads (files.partial_uploads), by target path.
    partial: list[str] = field(default_factory=list)


def collect(*, grace: timedelta = GRACE, dry_run: bool = False) -> Collected:
    """Remove (with ``dry_run``: only name) every partial upload started before ``grace`` ago, every blob no node
    or kept part points at that is older than ``grace``, and abort every incomplete multipart upload of blobs
    begun before then. One folder of the storage at a time:
    the names it holds, then one query for those of them that nodes point at."""
    before = timezone.now() - grace
    collected = Collected()
    for upload in PartialUpload.objects.filter(created_at__lt=before):
        collected.partial.append(upload.target)
        if not dry_run:
            partial_uploads.discard(upload)
    storage = default_storage
    folders = _listed(FOLDER)[0]
    for folder in sorted(folders):
        prefix = f"{FOLDER}/{folder}/"
        names = {prefix + name for name in _listed(prefix)[1]}
        if not names:
            continue
        referenced = set(Node.objects.filter(blob__startswith=prefix).values_list("blob", flat=True))
        referenced |= set(UploadPart.objects.filter(blob__startswith=prefix).values_list("blob", flat=True))
        for name in sorted(names - referenced):
            if _modified(name) < before:
                collected.blobs.append(name)
                if not dry_run:
                    discard(name)
    if isinstance(storage, ObjectStorage):
        for key, upload_id in storage.stale_uploads(FOLDER + "/", before):
            collected.uploads.append(key)
            if not dry_run:
                storage.abort_upload(key, upload_id)
    return collected


def _listed(path: str) -> tuple[list[str], list[str]]:
    """(folders, files) in ``path`` of the storage; none where there is no such folder (a local storage that
    has never stored a blob)."""
    try:
        return default_storage.listdir(path)
    except FileNotFoundError:
        return [], []


def _modified(name: str) -> datetime:
    try:
        return default_storage.get_modified_time(name)
    except FileNotFoundError:  # removed meanwhile
        return timezone.now()
