"""Villages and sites as CSV and GeoJSON, out and in (`linda export-…` / `linda import-…`).

An import is all or nothing: the whole file is validated first, every error listed by row and
field, and only a clean file is written, in one transaction, with an audit entry per changed
row. Exporting and importing the result changes nothing. File shapes: docs/import-export.md.
"""

from linda.registry.exchange.formats import Format, format_for_path
from linda.registry.exchange.sites import (
    SITE_COLUMNS,
    export_sites,
    import_sites,
    import_sites_file,
    list_sites,
)
from linda.registry.exchange.villages import (
    VILLAGE_COLUMNS,
    export_villages,
    import_villages,
    import_villages_file,
    list_villages,
)

__all__ = [
    "SITE_COLUMNS",
    "VILLAGE_COLUMNS",
    "Format",
    "export_sites",
    "export_villages",
    "format_for_path",
    "import_sites",
    "import_sites_file",
    "import_villages",
    "import_villages_file",
    "list_sites",
    "list_villages",
]
