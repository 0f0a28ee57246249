"""The `linda` console command: Django's management commands behind one name."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        # `linda import-regions` runs the `import_regions` management command.
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["linda", *args])


if __name__ == "__main__":
    main()
