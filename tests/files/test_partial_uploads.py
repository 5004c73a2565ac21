"""Files uploaded in parts: parts kept as blobs, assembled in order, replaced when sent again; abandoned uploads
pruned with their parts, uploads in progress never."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.utils import timezone

from files import orphans, partial_uploads
from files.models import PartialUpload, UploadPart

pytestmark = pytest.mark.django_db(transaction=True)


def _upload(demo) -> PartialUpload:
    return PartialUpload.objects.create(owner=demo.alice, target="/research/parts.bin")


def test_parts_are_assembled_in_the_order_given(demo):
    upload = _upload(demo)
    first = partial_uploads.store_part(upload=upload, number=1, stream=io.BytesIO(b"first-"))
    second = partial_uploads.store_part(upload=upload, number=2, stream=io.BytesIO(b"second"))
    assembled = partial_uploads.Assembled([first, second])
    assert b"".join(iter(lambda: assembled.read(4), b"")) == b"first-second"


def test_a_part_sent_again_replaces_the_earlier_one_and_its_blob(demo):
    upload = _upload(demo)
    old = partial_uploads.store_part(upload=upload, number=1, stream=io.BytesIO(b"old"))
    new = partial_uploads.store_part(upload=upload, number=1, stream=io.BytesIO(b"new!"))
    assert list(UploadPart.objects.values_list("size", flat=True)) == [4]
    assert not default_storage.exists(old.blob)
    assert default_storage.exists(new.blob)


def test_discarding_an_upload_removes_its_parts_blobs(demo):
    upload = _upload(demo)
    part = partial_uploads.store_part(upload=upload, number=1, stream=io.BytesIO(b"bytes"))
    partial_uploads.discard(upload)
    assert not PartialUpload.objects.exists()
    assert not default_storage.exists(part.blob)


# Local blobs: the test moves the clock forward, and an object store refuses requests signed that far off its own.
def test_pruning_keeps_parts_in_progress_and_removes_abandoned_uploads(demo, local_blobs):
    upload = _upload(demo)
    part = partial_uploads.store_part(upload=upload, number=1, stream=io.BytesIO(b"bytes"))
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        # An upload still going (a part sent long ago, the upload recent): its part's blob is no orphan.
        PartialUpload.objects.filter(pk=upload.pk).update(created_at=timezone.now())
        orphans.collect(grace=timedelta(minutes=1))
    assert UploadPart.objects.filter(pk=part.pk).exists()
    assert default_storage.exists(part.blob)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        collected = orphans.collect()
    assert collected.partial == ["/research/parts.bin"]
    assert not PartialUpload.objects.exists()
    assert not default_storage.exists(part.blob)
