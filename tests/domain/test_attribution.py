"""Outage attribution of DESIGN decision 5: the cause, the facts behind it, and who pays."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linda.domain.attribution import (
    DEFAULT_SETTINGS,
    WIB,
    AttributionSettings,
    Beat,
    Cause,
    Continuity,
    Evidence,
    PlnSupply,
    Responsibility,
    SitePower,
    attribute,
    concurrent_counts,
    incident_groups,
    is_night,
    responsibility_for,
    solar_elevation_deg,
)
from linda.domain.status import Span

# Lemo II, Teweh Tengah (Barito Utara): just south of the equator.
LAT, LON = -0.95, 114.89
DAY_WIB = datetime(2024, 10, 12, tzinfo=WIB)
PLN = SitePower()  # 24 h PLN, no solar
SOLAR = SitePower(solar=True, pln=PlnSupply.NONE, latitude=LAT, longitude=LON)


def wib(hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return DAY_WIB.replace(hour=hh, minute=mm, second=ss)


def outage(start: datetime, end: datetime) -> Span:
    return Span(start, end)


# An outage 14:01-14:10 WIB after a live beat at 14:00 (I = 60 s); the router had been up a day.
GAP = outage(wib(14, 1), wib(14, 10))
UP_1D = 86_400


def test_uptime_counting_through_the_gap_is_the_link() -> None:
    ev = Evidence(
        before=Beat(wib(14), uptime_s=UP_1D),
        after=Beat(wib(14, 10), uptime_s=UP_1D + 600),
    )
    result = attribute(GAP, ev, PLN)
    assert result.cause is Cause.LINK
    assert result.continuity is Continuity.CONTINUOUS
    assert any("uptime router terus berjalan: 86.400 → 87.000 detik" in e for e in result.evidence)


def test_uptime_within_the_tolerance_still_counts_as_continuous() -> None:
    ev = Evidence(
        before=Beat(wib(14), uptime_s=UP_1D),
        after=Beat(wib(14, 10), uptime_s=UP_1D + 600 - 60),  # 60 s short: the tolerance
    )
    assert attribute(GAP, ev, PLN).cause is Cause.LINK
    short = Evidence(before=ev.before, after=Beat(wib(14, 10), uptime_s=UP_1D + 600 - 61))
    assert attribute(GAP, short, PLN).continuity is Continuity.RESET


def test_uptime_reset_alone_is_unknown_power_or_reboot() -> None:
    ev = Evidence(before=Beat(wib(14), uptime_s=UP_1D), after=Beat(wib(14, 10), uptime_s=45))
    result = attribute(GAP, ev, PLN)
    assert result.cause is Cause.UNKNOWN
    assert result.continuity is Continuity.RESET
    assert any("uptime router direset" in e for e in result.evidence)


# A PLN 24 h site whose router has no battery or solar behind it: a PLN cut is darkness.
PLN_NO_BACKUP = SitePower(backup=False)


def test_uptime_reset_on_a_pln_site_without_a_battery_is_power() -> None:
    ev = Evidence(before=Beat(wib(14), uptime_s=UP_1D, power_source="grid"),
                  after=Beat(wib(14, 10), uptime_s=45, power_source="grid"))
    result = attribute(GAP, ev, PLN_NO_BACKUP)
    assert result.cause is Cause.POWER
    assert any("tanpa baterai" in e for e in result.evidence)
    # Only with a reset: uptime counting through the gap is still the link.
    counting = Evidence(before=Beat(wib(14), uptime_s=UP_1D),
                        after=Beat(wib(14, 10), uptime_s=UP_1D + 600))
    assert attribute(GAP, counting, PLN_NO_BACKUP).cause is Cause.LINK
    # Not known to be without backup (the default), or with one: a reset alone stays unknown.
    assert attribute(GAP, ev, PLN).cause is Cause.UNKNOWN
    assert attribute(GAP, ev, SitePower(backup=True)).cause is Cause.UNKNOWN


def test_a_router_reporting_a_battery_overrides_the_registry_saying_none() -> None:
    """A battery installed but not recorded: the router's own readings win."""
    ev = Evidence(before=Beat(wib(14), uptime_s=UP_1D, battery_voltage_v=13.2),
                  after=Beat(wib(14, 10), uptime_s=45))
    assert attribute(GAP, ev, PLN_NO_BACKUP).cause is Cause.UNKNOWN


def test_uptime_reset_with_a_low_battery_is_power() -> None:
    ev = Evidence(
        before=Beat(wib(14), uptime_s=UP_1D, battery_voltage_v=11.6, battery_soc_pct=8),
        after=Beat(wib(14, 10), uptime_s=45),
    )
    result = attribute(GAP, ev, PLN)
    assert result.cause is Cause.POWER
    assert "tegangan baterai rendah: 11.60 V ≤ 11.80 V" in result.evidence
    assert "muatan baterai rendah: 8% ≤ 20%" in result.evidence


def test_uptime_reset_with_a_falling_battery_is_power() -> None:
    recent = tuple(
        Beat(wib(10 + h), uptime_s=UP_1D - 3600 * (4 - h), battery_voltage_v=v)
        for h, v in enumerate([12.9, 12.7, 12.5, 12.3])
    )
    ev = Evidence(
        before=Beat(wib(14), uptime_s=UP_1D, battery_voltage_v=12.2),
        after=Beat(wib(14, 10), uptime_s=45),
        recent=recent,
    )
    result = attribute(GAP, ev, PLN)
    assert result.cause is Cause.POWER
    assert "tegangan baterai turun: 12.90 V → 12.20 V" in result.evidence


def test_uptime_reset_at_night_on_a_solar_site_is_power() -> None:
    night = outage(wib(3, 1), wib(6, 30))
    ev = Evidence(before=Beat(wib(3), uptime_s=UP_1D), after=Beat(wib(6, 30), uptime_s=600))
    result = attribute(night, ev, SOLAR)
    assert result.cause is Cause.POWER
    assert any("malam hari" in e for e in result.evidence)
    # The same reset at noon on the same site has no power sign: unknown.
    noon = outage(wib(12, 1), wib(12, 30))
    ev_noon = Evidence(before=Beat(wib(12), uptime_s=UP_1D), after=Beat(wib(12, 30), uptime_s=600))
    assert attribute(noon, ev_noon, SOLAR).cause is Cause.UNKNOWN


def test_night_is_no_power_sign_on_a_pln_site() -> None:
    night = outage(wib(3, 1), wib(6, 30))
    ev = Evidence(before=Beat(wib(3), uptime_s=UP_1D), after=Beat(wib(6, 30), uptime_s=600))
    assert attribute(night, ev, SitePower(latitude=LAT, longitude=LON)).cause is Cause.UNKNOWN


def test_uptime_reset_outside_partial_pln_hours_is_power() -> None:
    partial = SitePower(pln=PlnSupply.PARTIAL, pln_on_from=time(17), pln_on_until=time(6))
    assert partial.pln_on_at(wib(23)) is True
    assert partial.pln_on_at(wib(5, 59)) is True
    assert partial.pln_on_at(wib(6)) is False
    ev = Evidence(before=Beat(wib(14), uptime_s=UP_1D), after=Beat(wib(14, 10), uptime_s=30))
    result = attribute(GAP, ev, partial)
    assert result.cause is Cause.POWER
    assert "di luar jam nyala PLN (situs PLN sebagian)" in result.evidence


def test_lvd_is_power_even_when_the_uptime_cannot_tell() -> None:
    ev = Evidence(before=Beat(wib(14), battery_voltage_v=12.1, lvd=True))
    result = attribute(GAP, ev, PLN)
    assert result.cause is Cause.POWER
    assert result.continuity is Continuity.UNKNOWN
    assert "low-voltage disconnect (LVD) tercatat" in result.evidence


def test_late_beats_from_inside_the_gap_with_counting_uptime_are_the_link() -> None:
    during = tuple(
        Beat(wib(14, m), late=True, uptime_s=UP_1D + 60 * m) for m in (2, 4, 6, 8)
    )
    ev = Evidence(
        before=Beat(wib(14), uptime_s=UP_1D),
        during=during,
        after=Beat(wib(14, 10), uptime_s=UP_1D + 600),
    )
    result = attribute(GAP, ev, PLN)
    assert result.cause is Cause.LINK
    assert any("4 heartbeat tertunda" in e for e in result.evidence)


def test_a_reboot_between_late_beats_is_seen() -> None:
    during = (
        Beat(wib(14, 2), late=True, uptime_s=UP_1D + 120, battery_voltage_v=11.5),
        Beat(wib(14, 8), late=True, uptime_s=20),
    )
    ev = Evidence(
        before=Beat(wib(14), uptime_s=UP_1D, battery_voltage_v=12.0),
        during=during,
        after=Beat(wib(14, 10), uptime_s=140),
    )
    result = attribute(GAP, ev, PLN)
    assert result.continuity is Continuity.RESET
    assert result.cause is Cause.POWER


def test_late_beats_without_uptime_prove_power_in_the_gap() -> None:
    ev = Evidence(before=Beat(wib(14)), during=(Beat(wib(14, 5), late=True),))
    assert attribute(GAP, ev, PLN).cause is Cause.LINK


def test_many_sites_down_at_once_is_one_upstream_incident() -> None:
    ev = Evidence(before=Beat(wib(14)), concurrent_sites=4)  # 5 sites in all
    result = attribute(GAP, ev, PLN)
    assert result.cause is Cause.UPSTREAM
    assert any("5 situs vendor yang sama" in e for e in result.evidence)
    fewer = Evidence(before=Beat(wib(14)), concurrent_sites=3)
    assert attribute(GAP, fewer, PLN).cause is Cause.UNKNOWN


def test_upstream_wins_over_link_but_not_over_a_power_loss() -> None:
    counting = Evidence(
        before=Beat(wib(14), uptime_s=UP_1D),
        after=Beat(wib(14, 10), uptime_s=UP_1D + 600),
        concurrent_sites=9,
    )
    assert attribute(GAP, counting, PLN).cause is Cause.UPSTREAM
    blackout = Evidence(
        before=Beat(wib(14), uptime_s=UP_1D, lvd=True),
        after=Beat(wib(14, 10), uptime_s=30),
        concurrent_sites=9,
    )
    assert attribute(GAP, blackout, PLN).cause is Cause.POWER


def test_the_upstream_threshold_is_a_setting() -> None:
    ev = Evidence(before=Beat(wib(14)), concurrent_sites=2)
    three = AttributionSettings(upstream_min_sites=3)
    assert attribute(GAP, ev, PLN, three).cause is Cause.UPSTREAM
    assert attribute(GAP, ev, PLN, DEFAULT_SETTINGS).cause is Cause.UNKNOWN
    with pytest.raises(ValueError):
        AttributionSettings(upstream_min_sites=1)


def test_no_heartbeats_at_all_is_unknown() -> None:
    result = attribute(GAP, Evidence(), PLN)
    assert result.cause is Cause.UNKNOWN
    assert result.evidence == ("uptime router sebelum gangguan tidak diketahui",)


@pytest.mark.parametrize(
    ("cause", "terms", "expected"),
    [
        (Cause.LINK, Responsibility.REGENCY, Responsibility.VENDOR),
        (Cause.UPSTREAM, Responsibility.REGENCY, Responsibility.VENDOR),
        (Cause.UNKNOWN, Responsibility.REGENCY, Responsibility.VENDOR),
        (Cause.POWER, Responsibility.REGENCY, Responsibility.REGENCY),
        (Cause.POWER, Responsibility.VENDOR, Responsibility.VENDOR),
        (Cause.POWER, Responsibility.FORCE_MAJEURE, Responsibility.FORCE_MAJEURE),
    ],
)
def test_responsibility_follows_the_terms_only_for_power(
    cause: Cause, terms: Responsibility, expected: Responsibility
) -> None:
    assert responsibility_for(cause, power_outage_responsibility=terms) is expected


# --- many sites at once -------------------------------------------------------------------

T0 = datetime(2024, 10, 12, 7, tzinfo=UTC)
W = timedelta(minutes=2)


def test_concurrent_counts_other_sites_within_the_window_once_each() -> None:
    starts = [
        ("a", T0),
        ("b", T0 + timedelta(seconds=119)),
        ("b", T0 + timedelta(seconds=30)),  # b twice: still one other site for a
        ("c", T0 + timedelta(seconds=121)),  # just outside a's window
        ("a", T0 + timedelta(hours=1)),
    ]
    assert concurrent_counts(starts, W) == [1, 2, 2, 1, 0]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcdefg"), st.integers(min_value=0, max_value=900)),
        max_size=40,
    )
)
def test_concurrent_counts_matches_brute_force(raw: list[tuple[str, int]]) -> None:
    starts = [(key, T0 + timedelta(seconds=s)) for key, s in raw]
    brute = [
        len({k for k, t in starts if k != key and abs(t - at) <= W}) for key, at in starts
    ]
    assert concurrent_counts(starts, W) == brute


def test_incident_groups_chain_close_starts() -> None:
    starts = [T0 + timedelta(seconds=s) for s in (100, 0, 110, 500, 230)]
    first = [T0, T0, T0, T0 + timedelta(seconds=500), T0]
    assert incident_groups(starts, W) == first


# --- the sun ------------------------------------------------------------------------------


def test_sunrise_and_sunset_at_muara_teweh() -> None:
    # 12 Oct 2024 at 114.9° E (pvlib's SPA): sunrise 05:03, transit 11:07, sunset 17:11 WIB.
    assert is_night(wib(4, 55), LAT, LON)
    assert not is_night(wib(5, 10), LAT, LON)
    assert not is_night(wib(17, 5), LAT, LON)
    assert is_night(wib(17, 20), LAT, LON)
    assert solar_elevation_deg(wib(11, 7), LAT, LON) > 80


def test_solar_elevation_agrees_with_pvlib_within_half_a_degree() -> None:
    import pandas as pd
    import pvlib

    times = pd.date_range("2024-01-01", "2024-12-31", freq="7h13min", tz="UTC")
    ref = pvlib.solarposition.get_solarposition(times, LAT, LON, method="nrel_numpy")
    for at, expected in zip(times, ref["elevation"], strict=True):  # geometric, no refraction
        ours = solar_elevation_deg(at.to_pydatetime(), LAT, LON)
        assert abs(ours - expected) < 0.5, (at, ours, expected)
