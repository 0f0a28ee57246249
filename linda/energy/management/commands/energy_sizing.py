"""`linda energy-sizing [SITE...]`: an alias of `linda energy size` / `linda energy fleet`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linda.energy import cli


class Command(BaseCommand):
    help = "The PV and battery sizing table (every site, or the named ones): `energy fleet`."

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_sizing_arguments(parser, sites="*")

    def handle(self, *args: Any, **options: Any) -> None:
        cli.sizing(options, self.stdout.write)
