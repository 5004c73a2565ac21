"""boto3 against a running server: bucket ``io``, a PAT as the access key, the tree's files as objects."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from files.models import Node
from tests.support.dav_support import DavClient, editor_lock
from tests.support.s3_support import error_code, md5_base64, md5_hex, plain, s3_client

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]

PAPER = b"A paper in progress.\n"


def _keys(listing):
    return [item["Key"] for item in listing.get("Contents", [])]


def _prefixes(listing):
    return [item["Prefix"] for item in listing.get("CommonPrefixes", [])]


def test_list_buckets_shows_the_one_bucket_io(alice_s3):
    assert [bucket["Name"] for bucket in alice_s3.list_buckets()["Buckets"]] == ["io"]


def test_bucket_answers_head_location_and_create(alice_s3):
    assert alice_s3.head_bucket(Bucket="io")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert alice_s3.get_bucket_location(Bucket="io").get("LocationConstraint") is None
    assert alice_s3.create_bucket(Bucket="io")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_another_bucket_does_not_exist(alice_s3):
    with pytest.raises(ClientError) as refused:
        alice_s3.list_objects_v2(Bucket="other")
    assert error_code(refused) == "NoSuchBucket"


def test_top_level_lists_the_workspaces_as_common_prefixes(alice_s3):
    listing = alice_s3.list_objects_v2(Bucket="io", Delimiter="/")
    assert _prefixes(listing) == ["common/", "research/"]
    assert _keys(listing) == []


def test_folder_listing_shows_files_and_subfolders(alice_s3):
    listing = alice_s3.list_objects_v2(Bucket="io", Prefix="common/", Delimiter="/")
    assert _keys(listing) == ["common/welcome.txt"]
    assert _prefixes(listing) == ["common/projects/"]


def test_listing_without_delimiter_lists_every_file_below_the_prefix(alice_s3):
    listing = alice_s3.list_objects_v2(Bucket="io", Prefix="common/projects/")
    assert _keys(listing) == [
        "common/projects/alpha/data.csv",
        "common/projects/alpha/readme.txt",
        "common/projects/beta/notes.md",
    ]


def test_listing_entries_carry_the_md5_etag_and_size(alice_s3):
    (entry,) = alice_s3.list_objects_v2(Bucket="io", Prefix="research/")["Contents"]
    assert entry["Key"] == "research/paper.txt"
    assert entry["Size"] == len(PAPER)
    assert entry["ETag"] == f'"{md5_hex(PAPER)}"'


def test_listing_pages_with_continuation_tokens_without_repeats_or_gaps(alice_s3):
    names = [f"common/many/f{index:02d}.txt" for index in range(7)]
    for name in names:
        alice_s3.put_object(Bucket="io", Key=name, Body=b"x")
    paginator = alice_s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket="io", Prefix="common/many/", PaginationConfig={"PageSize": 3}))
    assert [len(page.get("Contents", [])) for page in pages] == [3, 3, 1]
    assert [key for page in pages for key in _keys(page)] == names


def test_start_after_and_v1_marker_skip_what_comes_before(alice_s3):
    after = alice_s3.list_objects_v2(
        Bucket="io", Prefix="common/projects/", StartAfter="common/projects/alpha/data.csv"
    )
    assert _keys(after) == ["common/projects/alpha/readme.txt", "common/projects/beta/notes.md"]
    v1 = alice_s3.list_objects(Bucket="io", Prefix="common/projects/", Marker="common/projects/alpha/readme.txt")
    assert _keys(v1) == ["common/projects/beta/notes.md"]


def test_get_object_returns_the_bytes_with_md5_etag(alice_s3):
    got = alice_s3.get_object(Bucket="io", Key="research/paper.txt")
    assert got["Body"].read() == PAPER
    assert got["ETag"] == f'"{md5_hex(PAPER)}"'
    assert got["ContentLength"] == len(PAPER)


def test_get_object_with_range_returns_that_part(alice_s3):
    got = alice_s3.get_object(Bucket="io", Key="research/paper.txt", Range="bytes=2-6")
    assert got["Body"].read() == PAPER[2:7]
    assert got["ContentRange"] == f"bytes 2-6/{len(PAPER)}"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206


def test_range_beyond_the_end_is_invalid_range(alice_s3):
    with pytest.raises(ClientError) as refused:
        alice_s3.get_object(Bucket="io", Key="research/paper.txt", Range="bytes=500-600")
    assert error_code(refused) == "InvalidRange"


def test_get_with_a_matching_if_none_match_is_not_modified(alice_s3):
    etag = alice_s3.head_object(Bucket="io", Key="research/paper.txt")["ETag"]
    with pytest.raises(ClientError) as refused:
        alice_s3.get_object(Bucket="io", Key="research/paper.txt", IfNoneMatch=etag)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as failed:
        alice_s3.get_object(Bucket="io", Key="research/paper.txt", IfMatch='"0000"')
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412


def test_head_object_gives_size_and_etag(alice_s3):
    head = alice_s3.head_object(Bucket="io", Key="research/paper.txt")
    assert head["ContentLength"] == len(PAPER)
    assert head["ETag"] == f'"{md5_hex(PAPER)}"'


def test_missing_key_is_no_such_key(alice_s3):
    with pytest.raises(ClientError) as refused:
        alice_s3.get_object(Bucket="io", Key="research/nothing.txt")
    assert error_code(refused) == "NoSuchKey"


def test_put_creates_missing_parent_folders_and_stores_the_md5(demo, alice_s3):
    body = "Grüße aus dem Gateway\n".encode()
    put = alice_s3.put_object(Bucket="io", Key="research/new/deeper/grüße.txt", Body=body)
    assert put["ETag"] == f'"{md5_hex(body)}"'
    node = demo.node("/research/new/deeper/grüße.txt")
    assert node.md5 == md5_hex(body)
    assert demo.node("/research/new").is_folder
    assert alice_s3.get_object(Bucket="io", Key="research/new/deeper/grüße.txt")["Body"].read() == body


def test_put_replaces_an_existing_file(demo, alice_s3):
    alice_s3.put_object(Bucket="io", Key="research/paper.txt", Body=b"second draft")
    assert alice_s3.get_object(Bucket="io", Key="research/paper.txt")["Body"].read() == b"second draft"
    assert Node.objects.filter(workspace=demo.research, name="paper.txt").count() == 1


def test_put_with_a_matching_content_md5_is_stored(alice_s3):
    body = b"checked bytes"
    digest = md5_base64(body)
    alice_s3.put_object(Bucket="io", Key="research/checked.txt", Body=body, ContentMD5=digest)
    assert alice_s3.get_object(Bucket="io", Key="research/checked.txt")["Body"].read() == body


def test_put_with_a_wrong_content_md5_is_bad_digest_and_stores_nothing(demo, alice_s3):
    wrong = md5_base64(b"other bytes")
    with pytest.raises(ClientError) as refused:
        alice_s3.put_object(Bucket="io", Key="research/bad.txt", Body=b"the bytes", ContentMD5=wrong)
    assert error_code(refused) == "BadDigest"
    assert not Node.objects.filter(workspace=demo.research, name="bad.txt").exists()


def test_put_of_a_folder_key_creates_the_folder(demo, alice_s3):
    alice_s3.put_object(Bucket="io", Key="research/empty/folder/", Body=b"")
    assert demo.node("/research/empty/folder").is_folder
    assert alice_s3.head_object(Bucket="io", Key="research/empty/folder/")["ContentLength"] == 0
    listing = alice_s3.list_objects_v2(Bucket="io", Prefix="research/empty/", Delimiter="/")
    assert _prefixes(listing) == ["research/empty/folder/"]


def test_delete_removes_the_file(demo, alice_s3):
    alice_s3.delete_object(Bucket="io", Key="research/paper.txt")
    assert not Node.objects.filter(workspace=demo.research, name="paper.txt").exists()


def test_deleting_a_folder_key_with_contents_deletes_nothing(demo, alice_s3):
    response = alice_s3.delete_object(Bucket="io", Key="common/projects/")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert demo.node("/common/projects/alpha/readme.txt")


def test_writes_in_a_read_only_workspace_are_access_denied(demo, server):
    _token, secret = demo.token(demo.bob)
    bob = s3_client(server, secret)
    with pytest.raises(ClientError) as refused:
        bob.put_object(Bucket="io", Key="common/bob.txt", Body=b"no")
    assert error_code(refused) == "AccessDenied"
    with pytest.raises(ClientError) as deleting:
        bob.delete_object(Bucket="io", Key="common/welcome.txt")
    assert error_code(deleting) == "AccessDenied"


def test_a_workspace_without_grant_does_not_exist_for_the_token(demo, server):
    _token, secret = demo.token(demo.bob)
    bob = s3_client(server, secret)
    assert _prefixes(bob.list_objects_v2(Bucket="io", Delimiter="/")) == ["common/"]
    with pytest.raises(ClientError) as refused:
        bob.get_object(Bucket="io", Key="research/paper.txt")
    assert error_code(refused) == "NoSuchKey"
    with pytest.raises(ClientError) as writing:
        bob.put_object(Bucket="io", Key="research/bob.txt", Body=b"no")
    assert error_code(writing) == "NoSuchKey"


def test_scoped_token_sees_only_its_branch_and_is_refused_outside(demo, server):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    scoped = s3_client(server, secret)
    assert _prefixes(scoped.list_objects_v2(Bucket="io", Delimiter="/")) == ["common/"]
    assert _prefixes(scoped.list_objects_v2(Bucket="io", Prefix="common/", Delimiter="/")) == ["common/projects/"]
    assert _keys(scoped.list_objects_v2(Bucket="io")) == [
        "common/projects/alpha/data.csv",
        "common/projects/alpha/readme.txt",
    ]
    assert scoped.get_object(Bucket="io", Key="common/projects/alpha/readme.txt")["Body"].read()
    for key in ("common/welcome.txt", "common/projects/beta/notes.md", "research/paper.txt"):
        with pytest.raises(ClientError) as refused:
            scoped.get_object(Bucket="io", Key=key)
        assert error_code(refused) == "NoSuchKey", key


def test_read_scoped_token_may_not_write_inside_its_scope(demo, server):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    scoped = s3_client(server, secret)
    with pytest.raises(ClientError) as refused:
        scoped.put_object(Bucket="io", Key="common/projects/alpha/new.txt", Body=b"no")
    assert error_code(refused) == "AccessDenied"
    with pytest.raises(ClientError) as deleting:
        scoped.delete_object(Bucket="io", Key="common/projects/alpha/readme.txt")
    assert error_code(deleting) == "AccessDenied"
    assert not Node.objects.filter(name="new.txt").exists()


def test_write_scoped_token_writes_inside_its_scope_only(demo, server):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    scoped = s3_client(server, secret)
    scoped.put_object(Bucket="io", Key="common/projects/alpha/sub/new.txt", Body=b"yes")
    assert demo.node("/common/projects/alpha/sub/new.txt").size == 3
    with pytest.raises(ClientError) as refused:
        scoped.put_object(Bucket="io", Key="common/projects/elsewhere.txt", Body=b"no")
    assert error_code(refused) == "AccessDenied"


def test_webdav_only_token_is_an_invalid_access_key(demo, server):
    _token, secret = demo.token(demo.alice, scopes=["protocol:webdav"])
    with pytest.raises(ClientError) as refused:
        s3_client(server, secret).list_objects_v2(Bucket="io")
    assert error_code(refused) == "InvalidAccessKeyId"


def test_s3_token_works_on_s3(demo, server):
    _token, secret = demo.token(demo.alice, scopes=["protocol:s3"])
    assert s3_client(server, secret).list_buckets()["Buckets"]


def test_unknown_token_is_an_invalid_access_key(server):
    with pytest.raises(ClientError) as refused:
        s3_client(server, "cpat_notatokenatall").list_buckets()
    assert error_code(refused) == "InvalidAccessKeyId"


def test_deleted_token_is_refused_on_the_next_request(demo, server):
    token, secret = demo.token(demo.alice)
    client = s3_client(server, secret)
    assert client.list_buckets()["Buckets"]
    token.delete()
    with pytest.raises(ClientError) as refused:
        client.list_buckets()
    assert error_code(refused) == "InvalidAccessKeyId"


def test_wrong_secret_key_is_signature_does_not_match(demo, server):
    _token, secret = demo.token(demo.alice)
    with pytest.raises(ClientError) as refused:
        s3_client(server, secret, secret="not-the-gateway-secret").list_buckets()
    assert error_code(refused) == "SignatureDoesNotMatch"


def test_any_region_is_accepted(demo, server):
    _token, secret = demo.token(demo.alice)
    assert s3_client(server, secret, region="eu-central-1").list_buckets()["Buckets"]


def test_presigned_urls_are_refused_with_a_reason(demo, server):
    _token, secret = demo.token(demo.alice)
    client = s3_client(server, secret, signature_version="s3v4")
    url = client.generate_presigned_url("get_object", {"Bucket": "io", "Key": "research/paper.txt"})
    assert "X-Amz-Credential=" in url
    response = plain(url)
    assert response.status == 403
    assert b"<Code>AccessDenied</Code>" in response.data
    assert b"Presigned URLs are refused" in response.data


def test_unsigned_requests_still_reach_the_console(server):
    response = plain(server + "/")
    assert response.status in (200, 302)
    assert b"<Error>" not in response.data


def test_copy_object_duplicates_the_bytes_into_new_folders(demo, alice_s3):
    copied = alice_s3.copy_object(
        Bucket="io", Key="common/copies/paper.txt", CopySource={"Bucket": "io", "Key": "research/paper.txt"}
    )
    assert copied["CopyObjectResult"]["ETag"] == f'"{md5_hex(PAPER)}"'
    assert alice_s3.get_object(Bucket="io", Key="common/copies/paper.txt")["Body"].read() == PAPER
    assert demo.node("/research/paper.txt").size == len(PAPER)


def test_copy_onto_itself_takes_the_new_modification_time(demo, alice_s3):
    alice_s3.copy_object(
        Bucket="io",
        Key="research/paper.txt",
        CopySource={"Bucket": "io", "Key": "research/paper.txt"},
        Metadata={"mtime": "1000000000.5"},
        MetadataDirective="REPLACE",
    )
    assert demo.node("/research/paper.txt").mtime.timestamp() == 1000000000.5
    head = alice_s3.head_object(Bucket="io", Key="research/paper.txt")
    assert head["Metadata"]["mtime"] == "1000000000.500000"


def test_copy_from_outside_the_scope_is_no_such_key_and_into_a_read_scope_access_denied(demo, server):
    alpha = demo.node("/common/projects/alpha")
    _token, secret = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    scoped = s3_client(server, secret)
    with pytest.raises(ClientError) as outside:
        scoped.copy_object(
            Bucket="io", Key="common/projects/alpha/x.txt", CopySource={"Bucket": "io", "Key": "research/paper.txt"}
        )
    assert error_code(outside) == "NoSuchKey"
    with pytest.raises(ClientError) as refused:
        scoped.copy_object(
            Bucket="io",
            Key="common/projects/alpha/copy.csv",
            CopySource={"Bucket": "io", "Key": "common/projects/alpha/data.csv"},
        )
    assert error_code(refused) == "AccessDenied"
    assert not Node.objects.filter(name="copy.csv").exists()


def test_delete_objects_deletes_many_and_reports_refusals(demo, server):
    _token, secret = demo.token(demo.alice)
    alice = s3_client(server, secret)
    for index in range(5):
        alice.put_object(Bucket="io", Key=f"research/many/{index}.txt", Body=b"x")
    keys = [{"Key": f"research/many/{index}.txt"} for index in range(5)]
    deleted = alice.delete_objects(Bucket="io", Delete={"Objects": keys})
    assert sorted(item["Key"] for item in deleted["Deleted"]) == [key["Key"] for key in keys]
    assert not Node.objects.filter(workspace=demo.research, type=Node.FILE, path__startswith="/many/").exists()

    _token, bob_secret = demo.token(demo.bob)
    bob = s3_client(server, bob_secret)
    refused = bob.delete_objects(Bucket="io", Delete={"Objects": [{"Key": "common/welcome.txt"}]})
    assert [error["Code"] for error in refused["Errors"]] == ["AccessDenied"]
    assert demo.node("/common/welcome.txt")


def test_a_webdav_lock_holds_against_s3_writes(demo, server):
    _token, secret = demo.token(demo.alice)
    editor_lock(DavClient("alice", secret), "/dav/research/paper.txt")
    alice = s3_client(server, secret)
    with pytest.raises(ClientError) as refused:
        alice.put_object(Bucket="io", Key="research/paper.txt", Body=b"overwritten")
    assert error_code(refused) == "OperationAborted"
    with pytest.raises(ClientError) as deleting:
        alice.delete_object(Bucket="io", Key="research/paper.txt")
    assert error_code(deleting) == "OperationAborted"
    assert alice.get_object(Bucket="io", Key="research/paper.txt")["Body"].read() == PAPER
