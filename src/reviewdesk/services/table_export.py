"""Tables the GUI shows, copied as TSV or saved as CSV, safe to open in a spreadsheet.

Dashboard and scorecard tables hold text from imported files (reviewer names, slice values,
model ids, reasons), so a pasted or saved cell starting with ``=``, ``+``, ``-`` or ``@`` would
run as a formula. Both paths use the CSV export's neutralization (``csv_export.neutralize``):
numbers stay numbers, formula-like strings get a leading ``'``. The CSV file is written like the
other CSV exports (UTF-8 with BOM, CRLF) under a temporary name and renamed into place, so a
failed write never leaves half a file under the chosen name. These tables are views of numbers
already shown, not exports of project data, so nothing is recorded in the audit chain.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from reviewdesk.domain.errors import UserError
from reviewdesk.services.csv_export import BOM, neutralize


def _clean(value: object) -> object:
    cell = neutralize(value)
    if isinstance(cell, float) and cell != cell:  # NaN: an empty cell, never the text "nan"
        return ""
    return cell


def table_tsv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Tab-separated text for the clipboard (what spreadsheets paste into cells)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow([_clean(h) for h in header])
    for row in rows:
        writer.writerow([_clean(cell) for cell in row])
    return out.getvalue()


def write_table_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write the table to ``path`` (replacing it atomically); returns the path written."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a folder; choose a file name")
    temp = path.with_name(f".{path.name}.partial")
    try:
        with temp.open("w", encoding="utf-8", newline="") as handle:
            handle.write(BOM)
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow([_clean(h) for h in header])
            for row in rows:
                writer.writerow([_clean(cell) for cell in row])
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise UserError(f"{path}: cannot write the table ({exc.strerror or exc})") from exc
    return path
