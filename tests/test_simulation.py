"""`mutualaid simulate`: a short synthetic day through the real services."""

from __future__ import annotations

import re

from mutualaid.cli import simulate


def test_a_short_day_serves_most_requests_and_reports_its_figures(tmp_path) -> None:
    from mutualaid import create_app
    from tests.conftest import base_config

    app = create_app(base_config(f"sqlite:///{tmp_path}/unused.db"))
    with app.app_context():
        result = app.test_cli_runner().invoke(
            simulate, ["--requests", "25", "--volunteers", "20", "--hours", "3", "--seed", "3"]
        )
    assert result.exit_code == 0, result.output
    served = int(re.search(r"served \(a volunteer said yes\) (\d+)", result.output).group(1))
    assert "requests arrived          25" in result.output
    assert 10 <= served <= 25
    assert re.search(r"time to acceptance\s+median \d+ min, 90th percentile \d+ min", result.output)
    assert re.search(r"proposals per served request \d+\.\d\d", result.output)
    assert "escalated to coordinators" in result.output
