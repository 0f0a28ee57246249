from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linda.audit.models import AuditAction, AuditEntry
from linda.registry.importing import ImportRefused
from linda.registry.models import Region
from linda.registry.regions import import_regions, import_regions_file
from tests.conftest import BARITO_UTARA_CSV

pytestmark = pytest.mark.django_db

HEADER = "code,parent_code,level,name\n"


def where(exc: pytest.ExceptionInfo[ImportRefused]) -> list[tuple[int, str]]:
    return sorted((e.row, e.field) for e in exc.value.errors)


def test_official_list_loads_every_level() -> None:
    result = import_regions_file(BARITO_UTARA_CSV, actor=None)

    assert (result.created, result.updated, result.unchanged) == (114, 0, 0)
    levels = Counter(Region.objects.values_list("level", flat=True))
    assert levels == {"province": 1, "regency": 1, "district": 9, "desa": 93, "kelurahan": 10}
    lemo = Region.objects.select_related("parent__parent").get(code="62.05.05.2011")
    kecamatan = lemo.parent
    assert kecamatan is not None and kecamatan.parent is not None
    assert (lemo.name, kecamatan.code, kecamatan.parent.code) == ("Lemo II", "62.05.05", "62.05")


def test_every_created_region_has_an_import_audit_entry() -> None:
    import_regions_file(BARITO_UTARA_CSV, actor=None)

    entries = AuditEntry.objects.filter(object_type="registry.Region")
    assert entries.count() == 114
    assert set(entries.values_list("action", flat=True)) == {AuditAction.IMPORT}
    lemo = entries.get(object_id=str(Region.objects.get(code="62.05.05.2011").pk))
    assert lemo.before is None and lemo.after is not None and lemo.after["name"] == "Lemo II"
    assert lemo.note == "import-regions" and lemo.actor_username == "system"


def test_reimport_changes_nothing_and_writes_no_audit() -> None:
    import_regions_file(BARITO_UTARA_CSV, actor=None)
    audits = AuditEntry.objects.count()

    result = import_regions_file(BARITO_UTARA_CSV, actor=None)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 114)
    assert AuditEntry.objects.count() == audits


def test_renamed_village_is_updated_with_before_and_after() -> None:
    import_regions_file(BARITO_UTARA_CSV, actor=None)
    text = BARITO_UTARA_CSV.read_text().replace(",desa,Lemo II\n", ",desa,Lemo Dua\n")

    result = import_regions(text, actor=None)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 113)
    assert Region.objects.get(code="62.05.05.2011").name == "Lemo Dua"
    entry = AuditEntry.objects.filter(note="import-regions").first()
    assert entry is not None and entry.before is not None and entry.after is not None
    assert (entry.before["name"], entry.after["name"]) == ("Lemo II", "Lemo Dua")


BAD_FILE = HEADER + (
    "63,,province,KALIMANTAN SELATAN\n"          # 1 fine
    "63.01,63,regency,KABUPATEN TANAH LAUT\n"    # 2 fine
    "63.01.01,63.01,kota,Takisung\n"             # 3 wrong level
    "63.01.0X,63.01,district,Jorong\n"           # 4 bad code
    "63.01.02.2001,63.01.02,desa,Asam Asam\n"    # 5 parent neither in file nor registry
    "63.01.01,63.01,district,Takisung Lagi\n"    # 6 duplicate code
    "63.01.03,63.01,district,\n"                 # 7 empty name
)


def test_bad_file_is_refused_whole_with_every_error_by_row_and_field() -> None:
    import_regions_file(BARITO_UTARA_CSV, actor=None)
    regions, audits = Region.objects.count(), AuditEntry.objects.count()

    with pytest.raises(ImportRefused) as exc:
        import_regions(BAD_FILE, actor=None)

    assert where(exc) == [(3, "level"), (4, "code"), (5, "parent_code"), (6, "code"), (7, "name")]
    assert Region.objects.count() == regions
    assert not Region.objects.filter(code__startswith="63").exists()
    assert AuditEntry.objects.count() == audits


def test_level_that_disagrees_with_the_code_or_the_parent_is_refused() -> None:
    text = HEADER + (
        "62,,province,KALIMANTAN TENGAH\n"
        "62.05,62,province,BARITO UTARA\n"      # a regency's code, labelled province
        "62.05.05,62.05,district,Teweh Tengah\n"  # so its parent is not a regency
    )

    with pytest.raises(ImportRefused) as exc:
        import_regions(text, actor=None)

    assert where(exc) == [(2, "code"), (2, "parent_code"), (3, "parent_code")]
    assert "is a province, not a regency" in str(exc.value)
    assert Region.objects.count() == 0


def test_missing_column_is_a_file_error_and_writes_nothing() -> None:
    with pytest.raises(ImportRefused) as exc:
        import_regions("code,parent_code,level\n62,,province\n", actor=None)

    assert [(e.row, e.field, e.message) for e in exc.value.errors] == [
        (0, "name", "required column is missing")
    ]
    assert str(exc.value.errors[0]) == "file, name: required column is missing"
    assert Region.objects.count() == 0


def test_empty_file_is_refused() -> None:
    with pytest.raises(ImportRefused) as exc:
        import_regions(HEADER, actor=None)

    assert where(exc) == [(0, "rows")]


def test_command_prints_counts_and_refuses_a_bad_file_with_exit_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("import_regions", str(BARITO_UTARA_CSV))
    assert "114 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_FILE, encoding="utf-8")

    with pytest.raises(CommandError) as exc:
        call_command("import_regions", str(bad))

    assert exc.value.returncode == 1
    assert "row 3, level:" in str(exc.value) and "row 6, code:" in str(exc.value)
    assert Region.objects.count() == 114
