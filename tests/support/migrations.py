"""Migration tests: the database moved to a migration (and back to the latest), and token rows made with the
historical model of that moment."""

from __future__ import annotations

from typing import Any

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

Target = list[tuple[str, str]]


def migrate(targets: Target | None = None) -> Apps:
    """Move the database to ``targets`` (None: every app's latest migration): the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    wanted = targets if targets is not None else executor.loader.graph.leaf_nodes()
    executor.migrate(wanted)
    return executor.loader.project_state(wanted).apps


def historical_token(apps: Apps, owner_id: int, label: str, **fields: Any) -> Any:
    """A token row through the historical model in ``apps`` (no secret: a digest of zeros), a Hard Limit one
    unless ``fields`` say otherwise; its public id made from its label."""
    token = apps.get_model("tokens", "PersonalAccessToken")
    return token.objects.create(
        owner_id=owner_id,
        label=label,
        lookup_id=label[:12].replace(" ", "_"),
        digest="0" * 64,
        pepper_version=1,
        **{"expiration_model": "hard", **fields},
    )
