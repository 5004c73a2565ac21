"""No escalation, as a property over random parents and requests: whenever ``tokens.escalation`` lets a child
through, the child reaches no node the parent does not (asked of the real rights function, on every node of a
tree, under random grants of the owner), works on no other protocol, from no other address, manages no more
tokens and lives no longer. And it never refuses what only narrows the parent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from files.models import Node
from files.rights import Access, Rights, rights_for
from people.models import User
from tokens.escalation import Terms, escalation
from tokens.scopes import MANAGES, PROTOCOLS, TokenScopes, parse_scopes

NOW = datetime(2030, 1, 1, tzinfo=UTC)
WORKSPACES = [uuid.UUID(int=1), uuid.UUID(int=2)]
PATHS = ["", "/a", "/a/b", "/a/b/c", "/a/d", "/e"]
TREE = [
    Node(uuid=uuid.uuid4(), workspace_id=workspace, path=path, parent_id=None if not path else uuid.uuid4())
    for workspace in WORKSPACES
    for path in PATHS
]
#: A node that a scope may still name after it was deleted.
GONE = uuid.uuid4()
PLACES = {**{node.uuid: (node.workspace_id, node.path) for node in TREE}, GONE: None}
BY_KEY = {node.uuid: node for node in TREE}
NETWORKS = [
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.1.2.0/24",
    "10.1.2.0/25",
    "10.1.2.128/25",
    "10.1.2.3",
    "192.0.2.0/24",
    "2001:db8::/32",
    "2001:db8:1::/48",
]
ADDRESSES = [
    "10.0.0.1",
    "10.1.0.9",
    "10.1.2.3",
    "10.1.2.4",
    "10.1.2.200",
    "10.2.0.1",
    "11.0.0.1",
    "192.0.2.5",
    "2001:db8::5",
    "2001:db8:1::5",
    "2001:db9::1",
    None,
]
PERMS = ["r", "w", "rw"]

node_scope = st.builds(
    lambda target, perm: f"node:{target}:{perm}",
    st.sampled_from([*(node.uuid for node in TREE), "*", GONE]),
    st.sampled_from(PERMS),
)


@st.composite
def scope_sets(draw: st.DrawFn) -> TokenScopes:
    strings = draw(st.lists(node_scope, max_size=4))
    strings += [f"protocol:{value}" for value in draw(st.sets(st.sampled_from(list(PROTOCOLS)), max_size=3))]
    strings += [f"ip:{network}" for network in draw(st.lists(st.sampled_from(NETWORKS), max_size=3))]
    manages = draw(st.sampled_from(MANAGES))
    if manages:
        strings.append(f"tokens:{manages}")
    return parse_scopes(strings)


@st.composite
def terms(draw: st.DrawFn, *, may_lack_an_end: bool = True) -> Terms:
    window = draw(st.none() | st.integers(1, 48).map(lambda hours: timedelta(hours=hours)))
    end: datetime | None = NOW + timedelta(hours=draw(st.integers(1, 24 * 30)))
    if window is not None and may_lack_an_end and draw(st.booleans()):
        end = None  # an Auto Refresh token without an absolute end
    expires_at = min(NOW + window, end or NOW + window) if window is not None else end
    assert expires_at is not None
    return Terms(scopes=draw(scope_sets()), end=end, window=window, expires_at=expires_at)


grants = st.fixed_dictionaries({workspace: st.sampled_from(["none", "r", "rw"]) for workspace in WORKSPACES})


def _rights(scopes: TokenScopes, granted: dict[uuid.UUID, str]) -> Rights:
    """The real rights function, on the tree in memory: the nodes and the owner's grants handed to it."""
    rights = rights_for(User(login="owner", is_active=True), scopes.nodes, nodes=BY_KEY)
    for workspace, level in granted.items():
        rights.note_grant(workspace, read=level != "none", write=level == "rw")
    return rights


@settings(max_examples=500)
@given(parent=terms(), child=terms(), granted=grants)
def test_a_child_let_through_never_exceeds_its_parent(parent, child, granted):
    if escalation(parent, child, PLACES) is not None:
        return
    ours, theirs = _rights(child.scopes, granted), _rights(parent.scopes, granted)
    for node in TREE:
        assert ours.access(node) & ~theirs.access(node) == Access.NONE, node.path
        assert not ours.can_remove(node) or theirs.can_remove(node), node.path
    for name in PROTOCOLS.values():
        assert not child.scopes.allows_protocol(name) or parent.scopes.allows_protocol(name)
    for address in ADDRESSES:
        assert not child.scopes.allows_address(address) or parent.scopes.allows_address(address)
    assert MANAGES.index(child.scopes.manages) <= MANAGES.index(parent.scopes.manages)
    # It can live no longer: it has an end no use pushes back, at most the parent's (or, where the parent has
    # none, the parent's expiry at that moment), and slides no further without use.
    assert child.end is not None
    assert child.end <= (parent.end if parent.end is not None else parent.expires_at)
    assert child.window is None or parent.window is None or child.window <= parent.window


@given(parent=terms(may_lack_an_end=False))
def test_a_token_may_always_make_its_own_twin(parent):
    assert escalation(parent, parent, PLACES) is None


def _below(node_id: uuid.UUID | None, depth: int) -> uuid.UUID | None:
    """A node at or below ``node_id`` in the tree (``*`` stays ``*``)."""
    if node_id is None or node_id == GONE:
        return node_id
    place = PLACES[node_id]
    assert place is not None
    inside = [node for node in TREE if node.workspace_id == place[0] and (node.path + "/").startswith(place[1] + "/")]
    return inside[depth % len(inside)].uuid


@given(parent=terms(may_lack_an_end=False), data=st.data())
def test_whatever_only_narrows_the_parent_is_let_through(parent, data):
    scopes = parent.scopes
    live = [scope for scope in scopes.nodes if scope.node != GONE]
    assume(live or not scopes.nodes)  # a parent whose every scope names a deleted node reaches nothing
    strings = []
    for scope in data.draw(st.lists(st.sampled_from(live), min_size=1, unique=True)) if live else []:
        target = _below(scope.node, data.draw(st.integers(0, 5)))
        perm = data.draw(st.sampled_from([letters for letters in PERMS if set(letters) <= set(scope.perm)]))
        strings.append(f"node:{'*' if target is None else target}:{perm}")
    if scopes.protocols:
        strings += [
            f"protocol:{value}" for value in data.draw(st.sets(st.sampled_from(sorted(scopes.protocols)), min_size=1))
        ]
    if scopes.networks:
        network = data.draw(st.sampled_from(scopes.networks))
        inside = (
            [network, *network.subnets(prefixlen_diff=1)] if network.prefixlen < network.max_prefixlen else [network]
        )
        strings.append(f"ip:{data.draw(st.sampled_from(inside))}")
    manages = data.draw(st.sampled_from(MANAGES[: MANAGES.index(scopes.manages) + 1]))
    if manages:
        strings.append(f"tokens:{manages}")
    assert parent.end is not None
    end = parent.end - timedelta(minutes=data.draw(st.integers(0, 60)))
    window = parent.window if data.draw(st.booleans()) else None
    expires_at = min(end, NOW + window) if window is not None else end
    child = Terms(scopes=parse_scopes(strings), end=end, window=window, expires_at=expires_at)
    assert escalation(parent, child, PLACES) is None
