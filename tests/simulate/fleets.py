"""Small fleets for the simulator tests, built without the database."""

from __future__ import annotations

import datetime as dt

from linda.simulate.fleet import FETCH, SCRIPT, Fleet, SiteSpec

NIGHT = tuple(h >= 18 or h < 6 for h in range(24))
OFF = (False,) * 24
# 00:00 WIB on 16 January 2025: the wet season.
WET_SEASON = dt.datetime(2025, 1, 15, 17, 0, tzinfo=dt.UTC).timestamp()


def mixed_fleet(n_each: int = 3) -> Fleet:
    """PLN 24 h sites without a battery, PLN-at-night and off-grid solar sites (well-sized
    and undersized, as in the demo), one vendor, a few PLN feeders."""
    specs: list[SiteSpec] = []
    for i in range(n_each):
        lat, lon = -1.3 + 0.3 * i, 114.6 + 0.2 * i
        common = {"latitude": lat, "longitude": lon, "vendor": "PT Contoh", "feeder": f"f{i}"}
        specs += [
            SiteSpec(code=f"pln-{i}", style=FETCH if i % 2 else SCRIPT, **common),
            SiteSpec(code=f"partial-{i}", power_profile="pln_partial", grid_hours=NIGHT,
                     pv_wp=900, battery_wh=4800, **common),
            SiteSpec(code=f"solar-{i}", power_profile="off_grid", grid_hours=OFF,
                     pv_wp=900, battery_wh=4800, **common),
            SiteSpec(code=f"small-{i}", power_profile="off_grid", grid_hours=OFF,
                     pv_wp=400, battery_wh=1200, **common),
        ]
    return Fleet(specs)
