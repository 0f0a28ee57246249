from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linda.registry.importing import ImportRefused
from linda.registry.regions import import_regions_file


class Command(BaseCommand):
    help = "Load an official region list (CSV: code, parent_code, level, name). All or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = import_regions_file(options["file"], actor=None)
        except ImportRefused as exc:
            raise CommandError(f"Refused, nothing written:\n{exc}") from exc
        except OSError as exc:
            raise CommandError(f"file: {exc}") from exc
        self.stdout.write(f"Regions: {result}")
