"""The compose `report` service runs as the read-only role: the report and the FOCUS export need nothing more."""

from __future__ import annotations

import pytest
import rep_seed
from sqlalchemy.engine import make_url


def test_rep_report_and_export_run_as_reader(engine, cli_env, tmp_path):
    if make_url(cli_env).query.get("host") is None:
        pytest.skip("role login by socket needs the embedded test server")
    rep_seed.seed(engine)
    roles = rep_seed.run_cli(["db", "roles"], {"DATABASE_URL": cli_env, "HYBRIDCOST_READER_PASSWORD": "r-pw",
                                               "HYBRIDCOST_WRITER_PASSWORD": "w-pw"})
    assert roles.exit_code == 0, roles.output
    reader = make_url(cli_env).set(username="hybridcost_reader", password=None).render_as_string(hide_password=False)
    result = rep_seed.run_cli(["report", "weekly", "--week", rep_seed.WEEK, "--out", str(tmp_path),
                               "--format", "html,xlsx"], {"DATABASE_URL": reader})
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / f"hybridcost-weekly-{rep_seed.WEEK}.xlsx").is_file()
    result = rep_seed.run_cli(["export", "focus", "--since", "2026-11-02", "--until", "2026-11-08",
                               "--out", str(tmp_path / "focus.csv")], {"DATABASE_URL": reader})
    assert result.exit_code == 0, result.stderr
