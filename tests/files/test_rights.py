from __future__ import annotations

import io
import uuid

import pytest

from files import paths, services
from files.models import Grant, Node
from files.rights import OWNER_READ, OWNER_WRITE, Access, rights_for

T, L, R, W = Access.TRAVERSE, Access.LIST, Access.READ, Access.WRITE


def names(rights, demo, path):
    return sorted(node.name for node in rights.visible_children(demo.node(path)))


def test_unscoped_token_has_the_owners_reach(demo):
    token, _ = demo.token(demo.bob)
    rights = rights_for(demo.bob, token.parsed_scopes)
    assert rights.access(demo.node("/common/welcome.txt")) == OWNER_READ
    assert rights.access(demo.node("/research")) == Access.NONE
    assert [ws.slug for ws in rights.visible_workspaces()] == ["common"]


def test_owner_write_grant(demo):
    rights = rights_for(demo.alice)
    assert rights.access(demo.node("/research/paper.txt")) == OWNER_WRITE
    assert rights.can_remove(demo.node("/research/paper.txt"))
    assert not rights.can_remove(demo.node("/research"))


def test_scoped_folder_and_its_descendants(demo):
    alpha = demo.node("/common/projects/alpha")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    assert rights.access(alpha) == T | L | R
    assert rights.access(demo.node("/common/projects/alpha/data.csv")) == T | L | R
    assert rights.access(demo.node("/common/projects/beta")) == Access.NONE
    assert rights.access(demo.node("/common/welcome.txt")) == Access.NONE
    assert rights.access(demo.node("/research/paper.txt")) == Access.NONE


def test_ancestors_are_traverse_only_and_list_just_the_branch(demo):
    alpha = demo.node("/common/projects/alpha")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    assert rights.access(demo.node("/common")) == T
    assert rights.access(demo.node("/common/projects")) == T
    assert names(rights, demo, "/common") == ["projects"]
    assert names(rights, demo, "/common/projects") == ["alpha"]
    assert names(rights, demo, "/common/projects/alpha") == ["data.csv", "readme.txt"]
    assert [ws.slug for ws in rights.visible_workspaces()] == ["common"]


def test_scoped_file(demo):
    data = demo.node("/common/projects/alpha/data.csv")
    token, _ = demo.token(demo.alice, scopes=[f"node:{data.uuid}:r"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    assert R in rights.access(data)
    assert rights.access(demo.node("/common/projects/alpha/readme.txt")) == Access.NONE
    assert names(rights, demo, "/common/projects/alpha") == ["data.csv"]


def test_write_scope_writes_inside_but_never_removes_the_scoped_node(demo):
    alpha = demo.node("/common/projects/alpha")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    assert W in rights.access(alpha)
    assert rights.can_remove(demo.node("/common/projects/alpha/data.csv"))
    assert not rights.can_remove(alpha)
    assert W not in rights.access(demo.node("/common/projects"))


def test_write_without_read_lists_but_does_not_read(demo):
    alpha = demo.node("/common/projects/alpha")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:w"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    access = rights.access(demo.node("/common/projects/alpha/data.csv"))
    assert L in access and W in access and R not in access
    assert names(rights, demo, "/common/projects/alpha") == ["data.csv", "readme.txt"]


def test_two_scopes_grant_their_union(demo):
    alpha, paper = demo.node("/common/projects/alpha"), demo.node("/research/paper.txt")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r", f"node:{paper.uuid}:w", f"node:{alpha.uuid}:w"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    assert rights.access(alpha) == T | L | R | W
    assert W in rights.access(paper) and R not in rights.access(paper)
    assert sorted(ws.slug for ws in rights.visible_workspaces()) == ["common", "research"]


def test_owner_losing_a_grant_takes_it_from_the_token(demo):
    paper = demo.node("/research/paper.txt")
    token, _ = demo.token(demo.alice, scopes=[f"node:{paper.uuid}:rw"])
    Grant.objects.filter(user=demo.alice, workspace=demo.research).delete()
    assert rights_for(demo.alice, token.parsed_scopes).access(paper) == Access.NONE


def test_owner_downgraded_to_read_loses_write_through_the_scope(demo):
    alpha = demo.node("/common/projects/alpha")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    Grant.objects.filter(user=demo.alice, workspace=demo.common).update(level=Grant.READ)
    access = rights_for(demo.alice, token.parsed_scopes).access(alpha)
    assert R in access and W not in access


def test_deleted_scoped_node_never_widens_the_token(demo):
    beta = demo.node("/common/projects/beta")
    token, _ = demo.token(demo.alice, scopes=[f"node:{beta.uuid}:rw"])
    services.delete(beta)
    rights = rights_for(demo.alice, token.parsed_scopes)
    assert rights.is_scoped
    assert rights.access(demo.node("/common")) == Access.NONE
    assert rights.access(demo.node("/common/welcome.txt")) == Access.NONE
    assert list(rights.visible_workspaces()) == []


def test_moved_scoped_node_takes_its_scope_along_and_nothing_more(demo):
    beta = demo.node("/common/projects/beta")
    token, _ = demo.token(demo.alice, scopes=[f"node:{beta.uuid}:r"])
    services.move(node=beta, parent=demo.node("/common"))
    rights = rights_for(demo.alice, token.parsed_scopes)
    assert R in rights.access(demo.node("/common/beta/notes.md"))
    assert rights.access(demo.node("/common/projects")) == Access.NONE
    assert names(rights, demo, "/common") == ["beta"]


def test_node_created_inside_a_scope_is_reachable(demo):
    alpha = demo.node("/common/projects/alpha")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:rw"])
    new, _ = services.write_file(parent=alpha, name="new.txt", stream=io.BytesIO(b"x"))
    assert rights_for(demo.alice, token.parsed_scopes).access(new) == T | L | R | W


def test_similar_name_prefix_is_not_inside_the_scope(demo):
    projects = demo.node("/common/projects")
    services.create_folder(parent=demo.node("/common"), name="projects-old")
    token, _ = demo.token(demo.alice, scopes=[f"node:{projects.uuid}:r"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    assert rights.access(demo.node("/common/projects-old")) == Access.NONE


def test_inactive_user_reaches_nothing(demo):
    demo.alice.is_active = False
    assert rights_for(demo.alice).access(demo.node("/common")) == Access.NONE


@pytest.mark.parametrize("login", ["alice", "bob"])
def test_group_grants_count(demo, login):
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="researchers")
    Grant.objects.create(workspace=demo.research, group=group, level=Grant.READ)
    user = getattr(demo, login)
    user.groups.add(group)
    assert R in rights_for(user).access(demo.node("/research/paper.txt"))


def test_access_at_a_path_answers_as_access_to_the_node(demo):
    alpha = demo.node("/common/projects/alpha")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    for path in ("/common", "/common/projects", "/common/projects/alpha/data.csv", "/common/projects/beta"):
        node = demo.node(path)
        assert rights.access_at(node.workspace_id, node.path) == rights.access(node), path


def test_grants_are_read_in_one_statement_when_first_needed(demo, django_assert_num_queries):
    with django_assert_num_queries(0):
        rights = rights_for(demo.alice)
    research = demo.research.nodes.get(path="")
    with django_assert_num_queries(1):
        assert set(rights.grants) == {demo.common.uuid, demo.research.uuid}
        assert rights.access(research) == OWNER_WRITE


def _grant_cases(demo):
    from django.contrib.auth.models import Group

    team = Group.objects.create(name="team")
    carol = type(demo.alice).objects.create_user(login="carol", password="x" * 20)  # no grant at all
    dave = type(demo.alice).objects.create_user(login="dave", password="x" * 20)
    dave.groups.add(team)
    Grant.objects.create(workspace=demo.research, group=team, level=Grant.READ)
    # bob reads common himself and may write it through the group: the union is read+write.
    demo.bob.groups.add(team)
    Grant.objects.create(workspace=demo.common, group=team, level=Grant.READ_WRITE)
    gone = type(demo.alice).objects.create_user(login="gone", password="x" * 20, is_active=False)
    Grant.objects.create(workspace=demo.common, user=gone, level=Grant.READ_WRITE)
    return {"alice": demo.alice, "bob": demo.bob, "carol": carol, "dave": dave, "gone": gone}


@pytest.mark.parametrize("login", ["alice", "bob", "carol", "dave", "gone"])
@pytest.mark.parametrize("path", ["/common/projects/alpha", "/research/paper.txt", "/research"])
def test_a_path_lookup_brings_the_workspaces_grant_along(demo, django_assert_num_queries, login, path):
    user = _grant_cases(demo)[login]
    expected = rights_for(user)
    expected_access = expected.access(demo.node(path))
    rights = rights_for(user)
    with django_assert_num_queries(1):
        node = paths.resolve_path(path, rights=rights)
        assert node is not None
        assert rights.access(node) == expected_access
        assert rights.can_remove(node) == expected.can_remove(node)
    # Another workspace, or the whole list, reads every grant once.
    with django_assert_num_queries(0 if login == "gone" else 1):
        assert rights.grants == expected.grants
    assert {ws.slug for ws in rights.visible_workspaces()} == {ws.slug for ws in expected.visible_workspaces()}
    assert rights.access(node) == expected_access


def test_a_seeded_grant_agrees_for_a_scoped_token(demo, django_assert_num_queries):
    alpha = demo.node("/common/projects/alpha")
    token, _ = demo.token(demo.alice, scopes=[f"node:{alpha.uuid}:r"])
    rights = rights_for(demo.alice, token.parsed_scopes)
    with django_assert_num_queries(1):
        node = paths.resolve_path("/common/projects/alpha/data.csv", rights=rights)
        assert node is not None
        assert rights.access(node) == T | L | R
        assert not rights.can_remove(node)
    research = demo.research.nodes.get(path="")
    with django_assert_num_queries(1):  # another workspace: every grant is read
        assert rights.access(research) == Access.NONE


def test_scope_nodes_are_read_as_the_orm_reads_them(demo, django_assert_num_queries):
    from files import raw_sql

    keys = [demo.node(path).pk for path in ("/common/projects/alpha", "/research/paper.txt")]
    gone = uuid.uuid4()
    with django_assert_num_queries(1):
        found = raw_sql.nodes_by_key([*keys, gone])
    expected = Node.objects.in_bulk(keys)
    fields = [field.attname for field in Node._meta.concrete_fields]
    assert found.keys() == expected.keys()
    for key, node in found.items():
        assert {name: getattr(node, name) for name in fields} == {name: getattr(expected[key], name) for name in fields}
    assert raw_sql.nodes_by_key([]) == {}
