"""`linda routeros-script SITE`: a paste-ready router script with a (new) site key."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linda.monitoring.routeros import linux_oneliner, routeros_script
from linda.monitoring.services import KeyRejected, authenticate_key, issue_site_key
from linda.registry.models import Site


class Command(BaseCommand):
    help = (
        "Print a RouterOS v7 (or --v6) script that posts the site's heartbeat every minute, "
        "and a curl line for Linux/OpenWrt. Issues a new site key unless --key is given; the "
        "key is shown only here. Older keys stay valid until revoked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("site", help="site code")
        parser.add_argument("--v6", action="store_true", help="RouterOS v6 (or v7 < 7.13)")
        parser.add_argument("--key", help="use this existing key of the site")
        parser.add_argument("--url", default=None,
                            help="server address the router uses (default LINDA_PUBLIC_URL)")
        parser.add_argument("--wan", default="ether1", help="WAN interface name")
        parser.add_argument("--ping", default="8.8.8.8", help="internet address to ping")

    def handle(self, *args: Any, **options: Any) -> None:
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError(f"no site with code {options['site']!r}")
        key = options["key"]
        if key:
            try:
                if authenticate_key(key) != site.pk:
                    raise CommandError("that key belongs to another site")
            except KeyRejected as exc:
                raise CommandError(f"that key is not usable: {exc.reason}") from None
        else:
            key = issue_site_key(site)
        url = options["url"] or settings.LINDA_PUBLIC_URL
        try:
            script = routeros_script(url=url, key=key, site_code=site.code,
                                     boot_base=int(time.time()), wan=options["wan"],
                                     target=options["ping"], v6=options["v6"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(script, ending="")
        self.stdout.write("\n" + linux_oneliner(url=url, key=key), ending="")
