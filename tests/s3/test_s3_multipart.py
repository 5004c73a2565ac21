"""Multipart uploads through boto3 against a running server: parts kept until completion or abort, the file
assembled in order, S3's multipart ETag; a scoped token refused outside its reach."""

from __future__ import annotations

import hashlib

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from files.models import Node, PartialUpload, UploadPart
from tests.support.s3_support import error_code, md5_hex, s3_client

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

MIB = 1024 * 1024


def _parts(count: int, size: int) -> list[bytes]:
    return [bytes([index]) * size for index in range(count)]


def test_a_multipart_upload_is_assembled_in_order_with_s3s_etag(demo, alice_s3):
    parts = _parts(3, 5 * MIB)
    parts[-1] = b"last part"
    started = alice_s3.create_multipart_upload(Bucket="io", Key="research/big/file.bin")
    upload_id = started["UploadId"]
    etags = []
    for number, data in enumerate(parts, start=1):
        answer = alice_s3.upload_part(
            Bucket="io", Key="research/big/file.bin", UploadId=upload_id, PartNumber=number, Body=data
        )
        etags.append(answer["ETag"])
    listed = alice_s3.list_parts(Bucket="io", Key="research/big/file.bin", UploadId=upload_id)
    assert [part["PartNumber"] for part in listed["Parts"]] == [1, 2, 3]
    done = alice_s3.complete_multipart_upload(
        Bucket="io",
        Key="research/big/file.bin",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in enumerate(etags, start=1)]},
    )
    expected = hashlib.md5(b"".join(bytes.fromhex(md5_hex(data)) for data in parts), usedforsecurity=False)
    assert done["ETag"] == f'"{expected.hexdigest()}-3"'
    got = alice_s3.get_object(Bucket="io", Key="research/big/file.bin")
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == done["ETag"]
    assert not PartialUpload.objects.exists()
    assert not UploadPart.objects.exists()


def test_boto3_upload_file_of_50_mib_goes_in_parts(demo, alice_s3, tmp_path):
    local = tmp_path / "fifty.bin"
    block = hashlib.sha256(b"seed").digest() * (MIB // 32)
    local.write_bytes(block * 50)
    config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=1)
    alice_s3.upload_file(str(local), "io", "research/fifty.bin", Config=config)
    node = demo.node("/research/fifty.bin")
    assert node.size == 50 * MIB
    assert node.md5.endswith("-7")
    fetched = tmp_path / "back.bin"
    alice_s3.download_file("io", "research/fifty.bin", str(fetched))
    assert fetched.read_bytes() == local.read_bytes()


def test_aborting_removes_the_parts_and_writes_nothing(alice_s3):
    upload_id = alice_s3.create_multipart_upload(Bucket="io", Key="research/aborted.bin")["UploadId"]
    alice_s3.upload_part(Bucket="io", Key="research/aborted.bin", UploadId=upload_id, PartNumber=1, Body=b"part")
    listed = alice_s3.list_multipart_uploads(Bucket="io")
    assert [upload["Key"] for upload in listed["Uploads"]] == ["research/aborted.bin"]
    alice_s3.abort_multipart_upload(Bucket="io", Key="research/aborted.bin", UploadId=upload_id)
    assert not UploadPart.objects.exists()
    assert not Node.objects.filter(name="aborted.bin").exists()
    with pytest.raises(ClientError) as gone:
        alice_s3.upload_part(Bucket="io", Key="research/aborted.bin", UploadId=upload_id, PartNumber=2, Body=b"x")
    assert error_code(gone) == "NoSuchUpload"


def test_a_part_with_a_wrong_etag_is_refused(alice_s3):
    upload_id = alice_s3.create_multipart_upload(Bucket="io", Key="research/wrong.bin")["UploadId"]
    alice_s3.upload_part(Bucket="io", Key="research/wrong.bin", UploadId=upload_id, PartNumber=1, Body=b"part")
    with pytest.raises(ClientError) as refused:
        alice_s3.complete_multipart_upload(
            Bucket="io",
            Key="research/wrong.bin",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]},
        )
    assert error_code(refused) == "InvalidPart"
    assert not Node.objects.filter(name="wrong.bin").exists()


def test_another_users_upload_does_not_exist(demo, alice_s3, server):
    upload_id = alice_s3.create_multipart_upload(Bucket="io", Key="common/shared.bin")["UploadId"]
    _token, secret = demo.token(demo.bob)
    bob = s3_client(server, secret)
    with pytest.raises(ClientError) as refused:
        bob.upload_part(Bucket="io", Key="common/shared.bin", UploadId=upload_id, PartNumber=1, Body=b"x")
    assert error_code(refused) == "NoSuchUpload"


def test_a_read_scope_cannot_start_an_upload_and_outside_is_no_such_key(demo, server):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    scoped = s3_client(server, secret)
    with pytest.raises(ClientError) as refused:
        scoped.create_multipart_upload(Bucket="io", Key="common/projects/alpha/big.bin")
    assert error_code(refused) == "AccessDenied"
    with pytest.raises(ClientError) as outside:
        scoped.create_multipart_upload(Bucket="io", Key="research/big.bin")
    assert error_code(outside) == "NoSuchKey"
    assert not PartialUpload.objects.exists()


def test_listing_uploads_pages_by_key_then_initiation_without_repeating_or_skipping(demo, alice_s3):
    keys = ["research/b.bin", "research/a.bin", "research/b.bin", "common/c.bin", "research/b.bin", "research/a.bin"]
    started = [(key, alice_s3.create_multipart_upload(Bucket="io", Key=key)["UploadId"]) for key in keys]
    # S3's order: by key, then the uploads of one key in the order they were started.
    expected = [item for key in sorted(set(keys)) for item in started if item[0] == key]
    # Bob's upload is not alice's to see.
    PartialUpload.objects.create(owner=demo.bob, target="/common/bob.bin")

    pages = list(alice_s3.get_paginator("list_multipart_uploads").paginate(Bucket="io", MaxUploads=2))
    assert [page["IsTruncated"] for page in pages] == [True, True, False]
    assert [len(page["Uploads"]) for page in pages] == [2, 2, 2]
    assert [(upload["Key"], upload["UploadId"]) for page in pages for upload in page["Uploads"]] == expected
    assert (pages[0]["NextKeyMarker"], pages[0]["NextUploadIdMarker"]) == expected[1]

    # A key marker alone starts after every upload of that key; with an upload id, after that upload.
    after_a = alice_s3.list_multipart_uploads(Bucket="io", KeyMarker="research/a.bin")
    assert [(upload["Key"], upload["UploadId"]) for upload in after_a["Uploads"]] == expected[3:]
    after_first_b = alice_s3.list_multipart_uploads(
        Bucket="io", KeyMarker="research/b.bin", UploadIdMarker=expected[3][1], MaxUploads=1
    )
    assert [upload["UploadId"] for upload in after_first_b["Uploads"]] == [expected[4][1]]
    assert after_first_b["IsTruncated"] is True

    under = alice_s3.list_multipart_uploads(Bucket="io", Prefix="research/a")
    assert [upload["UploadId"] for upload in under["Uploads"]] == [expected[1][1], expected[2][1]]
    assert under["IsTruncated"] is False
