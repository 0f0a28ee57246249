"""`linda energy <action>`: PV and battery sizing, a simulated stretch of days, the live
autonomy forecast and predicted against observed power downtime (docs/energy.md)."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from linda.energy import cli

Action = tuple[str, Callable[[ArgumentParser], None], Callable[[cli.Options, cli.Write], None]]
ACTIONS: dict[str, Action] = {
    "size": ("PV and battery sizing table for the named sites (or --typical)",
             lambda p: cli.add_sizing_arguments(p, sites="*"), cli.size),
    "fleet": ("the sizing table for every site in the database",
              lambda p: cli.add_sizing_arguments(p, sites=None), cli.fleet),
    "simulate": ("a site's PV and battery day by day through its simulated weather",
                 cli.add_simulate_arguments, cli.simulate),
    "autonomy": ("will the battery last the night? hours to the low-voltage disconnect",
                 cli.add_autonomy_arguments, cli.autonomy),
    "compare": ("predicted against observed power downtime per site for a month",
                cli.add_compare_arguments, cli.compare),
}


class Command(BaseCommand):
    help = (
        "Solar PV and battery: `size SITE...`, `fleet`, `simulate SITE`, `autonomy SITE`, "
        "`compare --month YYYY-MM` (docs/energy.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        for name, (text, add, _) in ACTIONS.items():
            add(actions.add_parser(name, help=text, description=text))

    def handle(self, *args: Any, **options: Any) -> None:
        ACTIONS[options["action"]][2](options, self.stdout.write)
