from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linda.registry.selectors import demo_data_present
from linda.rollout.demo import DEMO_PASSWORD, DemoRefused, load_demo, remove_demo


class Command(BaseCommand):
    help = (
        "Load the Linda Batara demo scenario (68 priority villages, 25 active, 43 in rollout), "
        "or remove it with --remove. Refuses to run on a database holding real data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--remove", action="store_true", help="remove all demo data")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when demo data is already loaded"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["remove"]:
            removed = remove_demo()
            self.stdout.write(f"Demo data removed ({removed} demo sites).")
            return
        if options["if_empty"] and demo_data_present():
            self.stdout.write("Demo data already loaded.")
            return
        try:
            summary = load_demo()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Demo data loaded: {summary.priorities} priority villages, {summary.active} active, "
            f"{summary.sites} sites. DEMO DATA — not the program's official list."
        )
        for username, role in summary.users:
            self.stdout.write(f"  demo login {username} / {DEMO_PASSWORD} ({role})")
