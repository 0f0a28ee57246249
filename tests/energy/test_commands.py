"""`linda energy size|fleet|simulate|autonomy` on a small fleet, and the older hyphenated
commands (`energy-sizing`, `energy-simulate`, `energy-autonomy`) as aliases of them."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linda.registry.models import PowerProfile
from tests.energy.test_selectors import solar_site

pytestmark = pytest.mark.usefixtures("barito_utara")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sizing_table_has_a_row_per_site_with_installed_and_sized_designs() -> None:
    solar_site("kd-off", pv_wp=400, battery_wh=1200)
    solar_site("kd-pln", PowerProfile.PLN_PARTIAL)
    text = run("energy", "fleet", "--years", "1", "--autonomy-days", "1")
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith("kd-")}
    assert set(lines) == {"kd-off", "kd-pln"}
    off = lines["kd-off"]
    assert off[1] == "off-grid" and off[3:7] == ["59", "1.42", "400", "1200"]
    assert float(off[7]) > 500  # the undersized design loses hundreds of hours a year
    assert lines["kd-pln"][1:3] == ["PLN", "18-06"]
    assert "99.5 % availability" in text


def test_sizing_of_named_sites_and_the_typical_fleet() -> None:
    solar_site("kd-x")
    text = run("energy", "size", "kd-x", "--years", "1", "--target", "99")
    assert [line.split()[0] for line in text.splitlines() if line.startswith("kd-")] == ["kd-x"]
    typical = run("energy", "size", "--typical", "--years", "1")
    rows = [line.split() for line in typical.splitlines() if line.startswith("typical-")]
    assert [r[0] for r in rows] == ["typical-pln-24h", "typical-pln-18-06", "typical-off-grid"]
    off = rows[2]
    assert off[3:5] == ["75", "1.80"]
    rule_wp, rule_wh = int(off[12]), int(off[13])
    assert 600 <= rule_wp <= 1000 and 2000 <= rule_wh <= 5000


def test_sizing_refuses_unknown_sites_and_bad_targets() -> None:
    with pytest.raises(CommandError, match="no such site: kd-nope"):
        run("energy", "size", "kd-nope")
    with pytest.raises(CommandError, match="--target"):
        run("energy", "fleet", "--target", "120")
    with pytest.raises(CommandError, match="name a site"):
        run("energy", "size")
    with pytest.raises(CommandError, match="invalid choice"):
        run("energy", "sizes")


def test_a_climate_file_replaces_the_default(tmp_path: Path) -> None:
    solar_site("kd-c")
    path = tmp_path / "c.csv"
    path.write_text("month,ghi_kwh_m2_day\n" + "".join(f"{m},3.5\n" for m in range(1, 13)))
    text = run("energy", "simulate", "kd-c", "--days", "1", "--years", "1", "--climate", str(path))
    assert f"weather seed 6205, {path}" in text
    with pytest.raises(CommandError, match="--climate"):
        run("energy", "fleet", "--climate", str(tmp_path / "missing.csv"))


def test_simulate_prints_a_line_per_day_and_the_totals() -> None:
    solar_site("kd-sim", pv_wp=400, battery_wh=1200)
    text = run("energy", "simulate", "kd-sim", "--days", "5", "--start-day", "340", "--years", "1")
    days = [line for line in text.splitlines() if line.startswith("y1 ")]
    assert [d.split()[1:3] for d in days] == [["07", "Dec"], ["08", "Dec"], ["09", "Dec"],
                                             ["10", "Dec"], ["11", "Dec"]]
    assert "400 Wp, 1200 Wh lfp" in text and "5 days: PV" in text
    with pytest.raises(CommandError, match="no such site"):
        run("energy", "simulate", "kd-nope")


def test_autonomy_says_whether_the_night_is_covered() -> None:
    solar_site("kd-night")
    low = run("energy", "autonomy", "kd-night", "--soc", "0.2", "--at", "2024-12-10T18:00+07:00")
    assert "goes dark tonight:   YES" in low
    full = run("energy", "autonomy", "kd-night", "--soc", "1", "--at", "2024-12-10T18:00+07:00")
    assert "goes dark tonight:   no" in full
    with pytest.raises(CommandError, match="UTC offset"):
        run("energy", "autonomy", "kd-night", "--soc", "1", "--at", "2024-12-10T18:00")


def test_the_hyphenated_commands_are_aliases() -> None:
    solar_site("kd-al", pv_wp=400, battery_wh=1200)
    solar_site("kd-other")
    assert run("energy_sizing", "--years", "1") == run("energy", "fleet", "--years", "1")
    assert run("energy_sizing", "kd-al", "--years", "1") == run("energy", "size", "kd-al",
                                                                 "--years", "1")
    sim = ("kd-al", "--days", "2", "--years", "1")
    assert run("energy_simulate", *sim) == run("energy", "simulate", *sim)
    night = ("kd-al", "--soc", "0.5", "--at", "2024-12-10T18:00+07:00")
    assert run("energy_autonomy", *night) == run("energy", "autonomy", *night)
