"""`linda energy-simulate SITE`: an alias of `linda energy simulate SITE`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linda.energy import cli


class Command(BaseCommand):
    help = "A site's PV and battery day by day through its simulated weather: `energy simulate`."

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_simulate_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        cli.simulate(options, self.stdout.write)
