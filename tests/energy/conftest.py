"""pvlib 0.16 still reads `DatetimeIndex.dayofyear`, which pandas 3 deprecates; the suite turns
warnings into errors, so the energy tests (and only for that message) let it pass."""

from __future__ import annotations

import pytest

PVLIB_ON_PANDAS_3 = "ignore:DatetimeIndex.dayofyear is deprecated"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/energy/" in item.nodeid:
            item.add_marker(pytest.mark.filterwarnings(PVLIB_ON_PANDAS_3))
