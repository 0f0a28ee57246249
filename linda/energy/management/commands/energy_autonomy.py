"""`linda energy-autonomy SITE --soc F`: an alias of `linda energy autonomy SITE`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linda.energy import cli


class Command(BaseCommand):
    help = "Will the battery last the night? Hours to the LVD: an alias of `energy autonomy`."

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_autonomy_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        cli.autonomy(options, self.stdout.write)
