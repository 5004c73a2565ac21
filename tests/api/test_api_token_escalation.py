"""No escalation through the REST API, as a property over random parent tokens and random requests: whatever a
token makes (POST /tokens) or rotates (POST /tokens/{id}/rotate), the token it gets reaches no node of the
demo tree that the parent does not (asked of the rights function), works on no other protocol, from no other
address, manages no more tokens and ends no later."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from files.models import Node
from files.rights import Access, rights_for
from tests.support.api_helpers import bearer, call
from tokens.models import PersonalAccessToken
from tokens.scopes import MANAGES, PROTOCOLS

NODES = ["/common", "/common/projects", "/common/projects/alpha", "/common/projects/alpha/data.csv", "/research"]
NETWORKS = ["127.0.0.0/8", "127.0.0.1", "127.0.0.0/9", "10.0.0.0/8", "::1"]
ADDRESSES = ["127.0.0.1", "127.0.0.2", "127.200.0.1", "10.1.1.1", "::1", "192.0.2.1"]


@st.composite
def scope_lists(draw: st.DrawFn, paths: dict[str, str]) -> list[str]:
    scopes = [
        f"node:{paths[path] if path != '*' else '*'}:{perm}"
        for path, perm in draw(
            st.lists(st.tuples(st.sampled_from([*NODES, "*"]), st.sampled_from(["r", "w", "rw"])), max_size=3)
        )
    ]
    scopes += [f"protocol:{value}" for value in draw(st.sets(st.sampled_from(list(PROTOCOLS)), max_size=2))]
    scopes += [f"ip:{network}" for network in draw(st.lists(st.sampled_from(NETWORKS), max_size=2))]
    return scopes


@pytest.fixture
def paths(demo, settings):
    settings.TOKEN_MAX_PER_USER = 0
    return {path: str(demo.node(path).uuid) for path in NODES}


def _reach(token: PersonalAccessToken) -> dict[str, Access]:
    rights = rights_for(token.owner, token.parsed_scopes)
    return {node.path: rights.access(node) for node in Node.objects.select_related("workspace")}


def _within(child: PersonalAccessToken, parent: PersonalAccessToken) -> None:
    ours, theirs = _reach(child), _reach(parent)
    assert all(ours[path] & ~theirs[path] == Access.NONE for path in ours)
    mine, its = child.scope_set, parent.scope_set
    assert all(its.allows_protocol(name) for name in PROTOCOLS.values() if mine.allows_protocol(name))
    assert all(its.allows_address(address) for address in ADDRESSES if mine.allows_address(address))
    assert MANAGES.index(mine.manages) <= MANAGES.index(its.manages)
    assert child.hard_end is not None and child.hard_end <= (parent.hard_end or parent.expires_at)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_what_a_token_makes_or_rotates_never_exceeds_it(demo, client, paths, data):
    parent_scopes = [*data.draw(scope_lists(paths)), "protocol:rest", "ip:127.0.0.1", "tokens:self"]
    hours = data.draw(st.integers(1, 48))
    parent, raw = demo.token(
        demo.alice,
        scopes=parent_scopes,
        label=lambda public_id: f"parent {public_id}",
        expires_in=timedelta(hours=hours),
    )
    # Half the requests pick among the parent's own scopes and live no longer, so that many get through.
    if data.draw(st.booleans()):
        scopes = []
        for kind in ("node:", "protocol:", "ip:", "tokens:"):
            own = [scope for scope in parent_scopes if scope.startswith(kind)]
            if own:
                scopes += data.draw(st.lists(st.sampled_from(own), min_size=kind != "tokens:", unique=True))
        duration = data.draw(st.integers(1, hours))
    else:
        scopes = data.draw(scope_lists(paths)) + data.draw(
            st.lists(st.sampled_from(["tokens:self", "tokens:all"]), max_size=1)
        )
        duration = data.draw(st.integers(1, 72))
    asked = {
        "label": "child",
        "model": data.draw(st.sampled_from(["hard_limit", "auto_refresh"])),
        "duration": f"{duration}h",
        "scopes": scopes,
    }
    response = call(client, "POST", "/tokens", asked, bearer(raw))
    assert response.status_code in {201, 403, 422}, response.content
    if response.status_code == 201:
        child = PersonalAccessToken.objects.get(uuid=response.json()["uuid"])
        _within(child, parent)
        rotated = call(client, "POST", f"/tokens/{child.uuid}/rotate", headers=bearer(raw))
        assert rotated.status_code == 201, rotated.content
        _within(PersonalAccessToken.objects.get(uuid=rotated.json()["uuid"]), parent)
    PersonalAccessToken.objects.all().delete()
