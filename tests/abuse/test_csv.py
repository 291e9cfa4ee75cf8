"""Item 11: an exported CSV opened in a spreadsheet runs nothing, whatever the locale's
separator — every field quoted, and a formula after ; or , neutralised too."""

from __future__ import annotations

import csv
import io

from mutualaid.models import Role
from tests import builders
from tests.web.dashboard_helpers import logged_in

PAYLOADS = [
    'Milk;=HYPERLINK("http://evil.example","click")',
    "eggs,=1+2",
    "bread;+cmd|' /C calc'!A0",
    "rice,@SUM(A1)",
    "=1+1",
]


def test_exported_cells_cannot_become_formulas_in_any_locale(app, session) -> None:
    for details in PAYLOADS:
        builders.aid_request(session, details=details)
    session.commit()
    viewer = logged_in(app, session, Role.VIEWER)
    raw = viewer.get("/dashboard/export/requests.csv").get_data(as_text=True)

    # Every field quoted: a ;-separated spreadsheet never splits inside one.
    rows = list(csv.reader(io.StringIO(raw)))
    quoted = io.StringIO()
    csv.writer(quoted, quoting=csv.QUOTE_ALL).writerows(rows)
    assert raw == quoted.getvalue()
    lines = raw.splitlines()
    for separator in (";", ","):
        for line in lines[1:]:
            # As a spreadsheet reading with this separator (ignoring quotes) would cut it.
            for piece in line.split(separator):
                piece = piece.strip().strip('"')
                assert not piece.startswith(("=", "+", "@")), (separator, piece)
