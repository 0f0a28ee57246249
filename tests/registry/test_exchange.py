from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linda.audit.models import AuditAction, AuditEntry
from linda.registry.exchange import (
    SITE_COLUMNS,
    Format,
    export_sites,
    export_villages,
    import_sites,
    import_villages,
)
from linda.registry.importing import ImportRefused, ImportResult
from linda.registry.models import Region, Site
from tests.factories import make_site

pytestmark = pytest.mark.usefixtures("barito_utara")

LEMO_II = "62.05.05.2011"  # desa, kecamatan Teweh Tengah
MELAYU = "62.05.05.1014"  # kelurahan, Teweh Tengah
SIKAN = "62.05.01.2005"  # desa, kecamatan Montallat


def where(exc: pytest.ExceptionInfo[ImportRefused]) -> list[tuple[int, str]]:
    return [(e.row, e.field) for e in exc.value.errors]


def counts(result: ImportResult) -> tuple[int, int, int]:
    return result.created, result.updated, result.unchanged


def village(code: str) -> Region:
    return Region.objects.get(code=code)


def audits(note: str) -> int:
    return AuditEntry.objects.filter(note=note).count()


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def at(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def collection(*features: Any) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


# --- villages ------------------------------------------------------------------------------

VILLAGES_CSV = (
    "code,latitude,longitude\n"
    f"{LEMO_II},-0.930000,114.91\n"
    f"{MELAYU},-0.958611,114.8925\n"
)


def test_village_csv_sets_coordinates_with_an_audit_entry() -> None:
    result = import_villages(VILLAGES_CSV, fmt=Format.CSV, actor=None)

    assert counts(result) == (0, 2, 0)
    lemo = village(LEMO_II)
    assert (lemo.latitude, lemo.longitude) == (Decimal("-0.93"), Decimal("114.91"))
    assert village(MELAYU).latitude == Decimal("-0.958611")
    assert village(SIKAN).latitude is None
    entry = AuditEntry.objects.get(note="import-villages", object_id=str(lemo.pk))
    assert entry.action == AuditAction.IMPORT
    assert entry.before is not None and entry.after is not None
    assert (entry.before["latitude"], entry.after["latitude"]) == (None, "-0.930000")


def test_village_reimport_changes_nothing_and_writes_no_audit() -> None:
    import_villages(VILLAGES_CSV, fmt=Format.CSV, actor=None)

    result = import_villages(VILLAGES_CSV, fmt=Format.CSV, actor=None)

    assert counts(result) == (0, 0, 2)
    assert audits("import-villages") == 2


def test_village_import_renames_and_clears_coordinates() -> None:
    import_villages(VILLAGES_CSV, fmt=Format.CSV, actor=None)
    text = f"code,name,latitude,longitude\n{LEMO_II},Lemo 2,,\n{MELAYU},Melayu,-0.958611,114.8925\n"

    result = import_villages(text, fmt=Format.CSV, actor=None)

    assert counts(result) == (0, 1, 1)
    lemo = village(LEMO_II)
    assert (lemo.name, lemo.latitude, lemo.longitude) == ("Lemo 2", None, None)


def test_village_geojson_sets_coordinates() -> None:
    text = collection(
        feature(at(114.91, -0.93), code=LEMO_II, kecamatan="Teweh Tengah"),
        feature(None, code=MELAYU, name="Melayu", level="kelurahan", kecamatan_code="62.05.05"),
    )

    result = import_villages(text, fmt=Format.GEOJSON, actor=None)

    assert counts(result) == (0, 1, 1)
    assert (village(LEMO_II).latitude, village(LEMO_II).longitude) == (
        Decimal("-0.93"), Decimal("114.91"),
    )


BAD_VILLAGES_CSV = (
    "code,name,kecamatan_code,level,latitude,longitude\n"
    f"{LEMO_II},Lemo II,62.05.05,desa,-0.93,114.91\n"  # 1 fine
    "62.05.99.2001,Nowhere,62.05.99,desa,0.5,115\n"  # 2 unknown village
    f"{MELAYU},Melayu,62.05.01,desa,95,114.1234567\n"  # 3 kecamatan, level, lat range, lon places
    f"{SIKAN},,62.05.01,desa,-1.5,\n"  # 4 empty name, latitude without longitude
    "62.05.05,Teweh Tengah,,,-0.9,114.9\n"  # 5 a kecamatan, not a village
    f"{LEMO_II},Lemo II,62.05.05,desa,\"-0,93\",114.91\n"  # 6 twice in the file
)


def test_bad_village_file_lists_every_error_and_writes_nothing() -> None:
    before = list(Region.objects.values_list("code", "name", "latitude", "longitude"))

    with pytest.raises(ImportRefused) as exc:
        import_villages(BAD_VILLAGES_CSV, fmt=Format.CSV, actor=None)

    assert where(exc) == [
        (2, "code"),
        (3, "kecamatan_code"), (3, "level"), (3, "latitude"), (3, "longitude"),
        (4, "name"), (4, "longitude"),
        (5, "code"),
        (6, "code"),
    ]
    messages = [str(e) for e in exc.value.errors]
    assert "row 2, code: '62.05.99.2001' is not a village in the registry" in messages[0]
    assert messages[3] == "row 3, latitude: 95 is outside -90..90"
    assert messages[4] == "row 3, longitude: 114.1234567 has more than 6 decimal places"
    assert messages[7] == "row 5, code: '62.05.05' is a district, not a desa or kelurahan"
    assert list(Region.objects.values_list("code", "name", "latitude", "longitude")) == before
    assert audits("import-villages") == 0


def test_bad_village_geojson_lists_every_error_and_writes_nothing() -> None:
    text = collection(
        feature(at(114.91, -0.93), code=LEMO_II),  # 1 fine
        {"type": "Point", "coordinates": [114, -1]},  # 2 not a Feature
        feature({"type": "LineString", "coordinates": [[114, -1], [115, -1]]}, code=MELAYU),  # 3
        feature(at(114.5, -1), name="Sikan", elevation=40),  # 4 no code, unknown property
        feature(at(200, -1), code=SIKAN),  # 5 longitude out of range
        feature(at(114.5, -1), code=SIKAN, name=True),  # 6 twice; name not text
    )

    with pytest.raises(ImportRefused) as exc:
        import_villages(text, fmt=Format.GEOJSON, actor=None)

    assert where(exc) == [
        (2, "type"), (3, "geometry"), (4, "code"), (4, "elevation"), (5, "longitude"), (6, "name"),
    ]
    assert not Region.objects.filter(latitude__isnull=False).exists()


def test_villages_round_trip_through_csv_and_geojson_changes_nothing() -> None:
    import_villages(VILLAGES_CSV, fmt=Format.CSV, actor=None)
    audit_count = AuditEntry.objects.count()

    for fmt in Format:
        result = import_villages(export_villages(fmt), fmt=fmt, actor=None)
        assert counts(result) == (0, 0, 103)
    assert AuditEntry.objects.count() == audit_count


def test_village_export_shapes() -> None:
    import_villages(VILLAGES_CSV, fmt=Format.CSV, actor=None)

    lines = export_villages(Format.CSV).splitlines()
    assert lines[0] == "code,name,kecamatan_code,level,latitude,longitude"
    assert len(lines) == 1 + 103
    assert f"{LEMO_II},Lemo II,62.05.05,desa,-0.930000,114.910000" in lines
    assert f"{SIKAN},Sikan,62.05.01,desa,," in lines

    features = json.loads(export_villages(Format.GEOJSON))["features"]
    by_code = {f["properties"]["code"]: f for f in features}
    assert len(by_code) == 103
    assert by_code[LEMO_II]["geometry"] == {"type": "Point", "coordinates": [114.91, -0.93]}
    assert by_code[LEMO_II]["properties"] == {
        "code": LEMO_II, "name": "Lemo II", "kecamatan_code": "62.05.05",
        "kecamatan": "Teweh Tengah", "level": "desa",
    }
    assert by_code[SIKAN]["geometry"] is None


# --- sites ---------------------------------------------------------------------------------

SITES_CSV = (
    ",".join(SITE_COLUMNS) + "\n"
    f"kd-lemo-2,{LEMO_II},Kantor Desa Lemo II,-0.93,114.91,vsat,20,5.5,pln_partial,17:00,23:00,"
    "400,2400,lfp,60,180\n"
    f"kd-sikan,{SIKAN},Kantor Desa,,,radio,10.00,2.00,pln_24h,,,,,,120,300\n"
)


def test_site_csv_creates_every_field_with_audit_entries() -> None:
    result = import_sites(SITES_CSV, fmt=Format.CSV, actor=None)

    assert counts(result) == (2, 0, 0)
    site = Site.objects.get(code="kd-lemo-2")
    assert site.village.code == LEMO_II
    assert (site.latitude, site.longitude) == (Decimal("-0.93"), Decimal("114.91"))
    assert (site.technology, site.bandwidth_down_mbps, site.bandwidth_up_mbps) == (
        "vsat", Decimal(20), Decimal("5.5"),
    )
    assert (site.power_profile, site.pln_on_from, site.pln_on_until) == (
        "pln_partial", dt.time(17), dt.time(23),
    )
    assert (site.solar_pv_wp, site.battery_wh, site.battery_chemistry) == (400, 2400, "lfp")
    assert (site.expected_interval_s, site.grace_s) == (60, 180)
    sikan = Site.objects.get(code="kd-sikan")
    assert (sikan.latitude, sikan.battery_wh, sikan.battery_chemistry) == (None, None, "")
    entries = AuditEntry.objects.filter(note="import-sites", action=AuditAction.IMPORT)
    assert entries.count() == 2 and all(e.before is None for e in entries)


def test_site_reimport_changes_nothing_and_writes_no_audit() -> None:
    import_sites(SITES_CSV, fmt=Format.CSV, actor=None)

    result = import_sites(SITES_CSV, fmt=Format.CSV, actor=None)

    assert counts(result) == (0, 0, 2)
    assert audits("import-sites") == 2


def test_site_upsert_updates_only_what_changed_and_keeps_absent_columns() -> None:
    import_sites(SITES_CSV, fmt=Format.CSV, actor=None)
    text = (
        "code,village_code,bandwidth_down_mbps\n"
        f"kd-lemo-2,{LEMO_II},25\n"
        f"kd-sikan,{SIKAN},10\n"
        f"kd-melayu,{MELAYU},15\n"
    )

    result = import_sites(text, fmt=Format.CSV, actor=None)

    assert counts(result) == (1, 1, 1)
    lemo = Site.objects.get(code="kd-lemo-2")
    assert (lemo.bandwidth_down_mbps, lemo.battery_wh) == (Decimal(25), 2400)
    entry = AuditEntry.objects.filter(note="import-sites", object_id=str(lemo.pk)).first()
    assert entry is not None and entry.before is not None and entry.after is not None
    assert (entry.before["bandwidth_down_mbps"], entry.after["bandwidth_down_mbps"]) == (
        "20.00", "25.00",
    )
    melayu = Site.objects.get(code="kd-melayu")
    assert (melayu.name, melayu.technology, melayu.expected_interval_s) == ("Kantor Desa", "vsat", 60)


def test_site_geojson_creates_sites() -> None:
    text = collection(
        feature(at(114.91, -0.93), code="kd-lemo-2", village_code=LEMO_II,
                bandwidth_down_mbps=20.5, solar_pv_wp=400, battery_chemistry=None,
                pln_on_from=None),
        feature(None, code="kd-sikan", village_code=SIKAN, technology="radio"),
    )

    result = import_sites(text, fmt=Format.GEOJSON, actor=None)

    assert counts(result) == (2, 0, 0)
    lemo = Site.objects.get(code="kd-lemo-2")
    assert (lemo.latitude, lemo.bandwidth_down_mbps, lemo.solar_pv_wp) == (
        Decimal("-0.93"), Decimal("20.5"), 400,
    )
    assert Site.objects.get(code="kd-sikan").technology == "radio"


BAD_SITES_CSV = (
    "code,village_code,name,latitude,longitude,technology,bandwidth_down_mbps,power_profile,"
    "pln_on_from,pln_on_until,battery_wh,battery_chemistry,expected_interval_s\n"
    f"kd-ok,{LEMO_II},Kantor Desa,-0.93,114.91,vsat,20,pln_24h,,,,,60\n"  # 1 fine
    f"Bad Code!,{LEMO_II},Kantor Desa,,,vsat,20,pln_24h,,,,,60\n"  # 2 not a slug
    "kd-2,62.05.99.9999,Kantor Desa,,,laser,20,pln_24h,,,,,60\n"  # 3 village, technology
    f"kd-3,{SIKAN},Kantor Desa,\"-0,93\",114,vsat,-3,pln_partial,07:00,,12.5,nicd,5\n"  # 4
    f"kd-4,{MELAYU},,,,vsat,20,pln_24h,25:00,,,,60\n"  # 5 empty name, bad time
    f"kd-ok,{LEMO_II},Kantor Desa,-0.93,114.91,vsat,20,pln_24h,,,,,60\n"  # 6 twice
)


def test_bad_site_file_lists_every_error_of_every_row_and_writes_nothing() -> None:
    make_site(LEMO_II, code="kd-ok")
    audit_count = AuditEntry.objects.count()

    with pytest.raises(ImportRefused) as exc:
        import_sites(BAD_SITES_CSV, fmt=Format.CSV, actor=None)

    assert where(exc) == [
        (2, "code"),
        (3, "village_code"), (3, "technology"),
        (4, "latitude"), (4, "bandwidth_down_mbps"), (4, "pln_on_until"), (4, "battery_wh"),
        (4, "battery_chemistry"), (4, "expected_interval_s"),
        (5, "name"), (5, "pln_on_from"),
        (6, "code"),
    ]
    text = str(exc.value)
    assert "row 3, technology: 'laser' is not one of vsat, radio, fiber, cellular" in text
    assert "row 4, latitude: '-0,93' is not a number (use a dot as the decimal separator)" in text
    assert "row 4, pln_on_until: required when power_profile is pln_partial" in text
    assert "row 4, expected_interval_s: Ensure this value is greater than or equal to 10." in text
    assert list(Site.objects.values_list("code", flat=True)) == ["kd-ok"]
    assert Site.objects.get(code="kd-ok").latitude is None  # row 1 was valid, yet not written
    assert AuditEntry.objects.count() == audit_count


def test_bad_site_geojson_lists_every_error_and_writes_nothing() -> None:
    text = collection(
        feature(at(114.91, -0.93), code="kd-ok", village_code=LEMO_II),  # 1 fine
        feature(at(114.91, -0.93), code="kd-2", village_code=LEMO_II, latitude=-0.93),  # 2
        feature(at(114.91, 91), code="kd-3", village_code=SIKAN, grace_s=-1),  # 3
        feature(at(114.91, -0.93), village_code=SIKAN, power_profile="solar"),  # 4 no code
    )

    with pytest.raises(ImportRefused) as exc:
        import_sites(text, fmt=Format.GEOJSON, actor=None)

    assert where(exc) == [(2, "latitude"), (3, "latitude"), (3, "grace_s"), (4, "code")]
    assert not Site.objects.exists()


def test_site_csv_with_only_one_coordinate_column_is_refused() -> None:
    with pytest.raises(ImportRefused) as exc:
        import_sites(f"code,village_code,latitude\nkd-1,{LEMO_II},-1\n", fmt=Format.CSV, actor=None)

    assert where(exc) == [(0, "longitude")]


def test_sites_round_trip_through_csv_and_geojson_changes_nothing() -> None:
    import_sites(SITES_CSV, fmt=Format.CSV, actor=None)
    make_site(MELAYU)  # model defaults, never imported
    audit_count = AuditEntry.objects.count()

    for fmt in Format:
        result = import_sites(export_sites(fmt), fmt=fmt, actor=None)
        assert counts(result) == (0, 0, 3)
    assert AuditEntry.objects.count() == audit_count


def test_site_export_shapes() -> None:
    import_sites(SITES_CSV, fmt=Format.CSV, actor=None)

    lines = export_sites(Format.CSV).splitlines()
    assert lines[0] == ",".join(SITE_COLUMNS)
    assert lines[1] == (
        f"kd-lemo-2,{LEMO_II},Kantor Desa Lemo II,-0.930000,114.910000,vsat,20.00,5.50,"
        "pln_partial,17:00,23:00,400,2400,lfp,60,180"
    )
    features = json.loads(export_sites(Format.GEOJSON))["features"]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [114.91, -0.93]}
    assert list(features[0]["properties"]) == [
        c for c in SITE_COLUMNS if c not in ("latitude", "longitude")
    ]
    assert features[0]["properties"]["bandwidth_up_mbps"] == 5.5
    assert features[0]["properties"]["pln_on_from"] == "17:00"
    assert features[1]["geometry"] is None
    assert features[1]["properties"]["battery_wh"] is None


# --- commands ------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_commands_print_counts(tmp_path: Path) -> None:
    (tmp_path / "villages.csv").write_text(VILLAGES_CSV, encoding="utf-8")
    (tmp_path / "sites.txt").write_text(SITES_CSV, encoding="utf-8")

    assert run("import_villages", str(tmp_path / "villages.csv")) == (
        "Villages: 0 created, 2 updated, 0 unchanged\n"
    )
    assert run("import_sites", str(tmp_path / "sites.txt"), "--format", "csv") == (
        "Sites: 2 created, 0 updated, 0 unchanged\n"
    )


def test_import_command_refuses_a_bad_file_with_every_error_and_exit_status_1(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(BAD_SITES_CSV, encoding="utf-8")

    with pytest.raises(CommandError) as exc:
        call_command("import_sites", str(path))

    assert exc.value.returncode == 1
    lines = str(exc.value).splitlines()
    assert lines[0] == "Refused, nothing written (12 errors):"
    assert lines[1].startswith("row 2, code: ")
    assert lines[-1] == "row 6, code: 'kd-ok' appears twice"
    assert not Site.objects.exists()


def test_linda_console_command_exits_non_zero_on_a_refused_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.db import connections

    from linda.__main__ import main

    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test's transaction
    path = tmp_path / "villages.csv"
    path.write_text(BAD_VILLAGES_CSV, encoding="utf-8")
    monkeypatch.setattr("sys.argv", ["linda", "import-villages", str(path)])

    with pytest.raises(SystemExit) as exc:
        main()

    assert exc.value.code == 1
    assert "row 3, kecamatan_code:" in capsys.readouterr().err


def test_import_command_needs_a_known_extension_or_format(tmp_path: Path) -> None:
    path = tmp_path / "villages.txt"
    path.write_text(VILLAGES_CSV, encoding="utf-8")

    with pytest.raises(CommandError, match="use --format"):
        call_command("import_villages", str(path))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_villages", str(tmp_path / "missing.csv"))


def test_export_commands_write_stdout_or_a_file_and_filter_by_kecamatan(tmp_path: Path) -> None:
    import_sites(SITES_CSV, fmt=Format.CSV, actor=None)

    csv_text = run("export_sites", "--kecamatan", "62.05.01")
    assert csv_text.splitlines()[1:] == [
        f"kd-sikan,{SIKAN},Kantor Desa,,,radio,10.00,2.00,pln_24h,,,,,,120,300"
    ]
    output = tmp_path / "sites.geojson"
    assert run("export_sites", "--output", str(output)) == f"2 sites written to {output}\n"
    assert len(json.loads(output.read_text(encoding="utf-8"))["features"]) == 2

    villages = json.loads(run("export_villages", "--format", "geojson", "--kecamatan", "62.05.05"))
    assert {f["properties"]["kecamatan_code"] for f in villages["features"]} == {"62.05.05"}
    with pytest.raises(CommandError, match="not a kecamatan"):
        call_command("export_villages", "--kecamatan", "62.05.99")


def test_export_then_import_commands_round_trip(tmp_path: Path) -> None:
    import_sites(SITES_CSV, fmt=Format.CSV, actor=None)
    import_villages(VILLAGES_CSV, fmt=Format.CSV, actor=None)

    for command, noun, count in (("villages", "Villages", 103), ("sites", "Sites", 2)):
        for suffix in ("csv", "geojson"):
            path = tmp_path / f"{command}.{suffix}"
            run(f"export_{command}", "--output", str(path))
            assert run(f"import_{command}", str(path)) == (
                f"{noun}: 0 created, 0 updated, {count} unchanged\n"
            )
