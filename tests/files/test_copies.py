"""``files.copies.copy``: what arrives while a copy is being made."""

from __future__ import annotations

import io

from files import copies, services
from files.models import DeadProperty


def test_a_file_added_to_the_source_while_it_is_copied_is_no_error(demo):
    """The copy is of the tree as it was read; what arrives meanwhile (with its dead properties) is left out.
    ``guard`` runs in the copy's transaction after the contents were duplicated, where another request's file
    would come in."""
    alpha = demo.node("/common/projects/alpha")

    def a_file_arrives() -> None:
        late, _created = services.write_file(parent=alpha, name="late.txt", stream=io.BytesIO(b"l"))
        DeadProperty.objects.create(node=late, name="{urn:x}colour", value="<x/>")

    copy = copies.copy(node=alpha, parent=demo.node("/research"), name="alpha-copy", guard=a_file_arrives)
    assert sorted(child.name for child in services.children(copy)) == ["data.csv", "readme.txt"]
    assert demo.node("/common/projects/alpha/late.txt") is not None
