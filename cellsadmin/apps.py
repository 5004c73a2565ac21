from __future__ import annotations

from django.apps import AppConfig


class CellsadminConfig(AppConfig):
    name = "cellsadmin"
    verbose_name = "cellsadmin"

    def ready(self) -> None:
        from cellsadmin import checks

        checks.register()
