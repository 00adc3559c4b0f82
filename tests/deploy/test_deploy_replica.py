"""Reads on a streaming replica: HYBRIDCOST_READ_REPLICA points the compose reader URL at a hot standby.

Two Debian clusters, the second made with pg_basebackup as a streaming replica of the first.
Edits and loads go to the primary through the writer URL; the dashboard's reader engine, the
exporter (the compose service's own command) and the weekly report read on the replica and
agree with the primary; the replica refuses writes whoever asks.
"""

from __future__ import annotations

import secrets
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from app.exporter import HybridcostCollector
from ingest import records as r
from ingest.loader import load
from models.edits import set_budget
from models.infra.database import make_engine, reader_engine
from models.infra.migrate import upgrade
from models.infra.roles import ensure_roles
from models.infra.settings import Settings
from tests.deploy.team_cluster import create_cluster, create_replica, destroy, free_port, postgres_bin_dir, wait_until
from tests.deploy.team_compose import ENV_EXAMPLE, HostTranslator, load_compose, read_dockerfile, read_env_file, write_shims
from tests.deploy.team_stack import Processes
from tests_support import require_system_run

pytestmark = [pytest.mark.system, pytest.mark.slow]

AS_OF = datetime(2026, 11, 20, 12, tzinfo=UTC)
ROLES = ("hybridcost_reader", "hybridcost_writer", "hybridcost_owner")


def _seed(writer: sa.Engine) -> None:
    """A price, usage and a daily cost line for every day of the month so far, loaded as the writer."""
    first = date(2026, 11, 1)
    records: list = [r.Price(provider="openai", model="gpt-4.1", effective_from=date(2026, 1, 1),
                             input_usd_per_mtok=Decimal("2"), output_usd_per_mtok=Decimal("8"))]
    for i in range((AS_OF.date() - first).days):
        day = datetime(2026, 11, 1 + i, tzinfo=UTC)
        records += [r.UsageHourly(provider="openai", account_id="acct", bucket_start_at=day + timedelta(hours=9),
                                  bucket_end_at=day + timedelta(hours=10), model="gpt-4.1",
                                  input_tokens=5_000_000, cached_input_tokens=0, output_tokens=100_000),
                    r.CostLine(basis="cost_api", provider="openai", account_id="acct", source_line_key=f"day-{i}",
                               charge_period_start_at=day, charge_period_end_at=day + timedelta(days=1),
                               billed_cost=Decimal("10.80"))]
    load(writer, records, source="test", target="replica seed")


def _metrics(url: str) -> dict[tuple[str, tuple], float]:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read().decode()
            break
        except OSError:
            assert time.monotonic() < deadline, f"no answer from {url}"
            time.sleep(0.3)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def test_reads_on_a_streaming_replica_writes_on_the_primary(tmp_path, monkeypatch):
    require_system_run("the streaming-replica test (two Debian PostgreSQL clusters)")
    postgres_bin_dir()
    env = read_env_file(ENV_EXAMPLE)
    env.update({name: secrets.token_hex(24) for name in ("POSTGRES_PASSWORD", "HYBRIDCOST_READER_PASSWORD",
                                                         "HYBRIDCOST_WRITER_PASSWORD", "HYBRIDCOST_OWNER_PASSWORD")})
    env["HYBRIDCOST_READ_REPLICA"] = "pg-replica:5432"  # the replica's address as the compose network sees it
    compose = load_compose(env)
    pg_env = compose["services"]["postgres"]["environment"]
    database = pg_env["POSTGRES_DB"]
    primary = replica = None
    processes = Processes(logs=tmp_path)
    try:
        primary = create_cluster(superuser=pg_env["POSTGRES_USER"], password=pg_env["POSTGRES_PASSWORD"],
                                 initdb_args=pg_env.get("POSTGRES_INITDB_ARGS", ""))
        primary.execute("postgres", f'CREATE DATABASE "{database}"')
        replica = create_replica(primary)
        # what the migrate service runs (the team-path test runs its command); schema and roles stream over
        upgrade(primary.url(database))
        admin = make_engine(primary.url(database))
        ensure_roles(admin, {role: env[f"HYBRIDCOST_{role.split('_')[1].upper()}_PASSWORD"] for role in ROLES})
        hosts = HostTranslator(compose, read_dockerfile(), tmp_path / "hosts", service_ports={
            "postgres": {5432: primary.port}, "pg-replica": {5432: replica.port}, "exporter": {9464: free_port()}})
        shims = write_shims(tmp_path / "bin")
        pinned = {"HYBRIDCOST_AS_OF": AS_OF.isoformat()}
        dashboard = hosts.process("dashboard", shims=shims, extra_env=pinned)
        exporter = hosts.process("exporter", shims=shims, extra_env=pinned)
        assert make_url(dashboard.env["HYBRIDCOST_READER_DATABASE_URL"]).port == replica.port
        assert make_url(dashboard.env["HYBRIDCOST_WRITER_DATABASE_URL"]).port == primary.port
        assert make_url(compose_url(hosts, "pullers")).port == primary.port

        writer = make_engine(dashboard.env["HYBRIDCOST_WRITER_DATABASE_URL"])
        _seed(writer)
        set_budget(writer, scope="team", name="unallocated", monthly_usd="100", actor="alice@example.com")

        # the dashboard's reader engine, from the dashboard's own environment, is on the replica
        for key in ("DATABASE_URL", "HYBRIDCOST_READER_DATABASE_URL", "HYBRIDCOST_WRITER_DATABASE_URL"):
            monkeypatch.setenv(key, dashboard.env[key])
        monkeypatch.setenv("HYBRIDCOST_AS_OF", AS_OF.isoformat())
        pages = reader_engine(Settings())

        written = primary.execute(database, "SELECT pg_current_wal_lsn()")[0][0]

        def replayed() -> bool:  # everything written so far, roles and passwords included
            return replica.execute(database, f"SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn")[0][0]

        wait_until(replayed, timeout=60, what=f"the replica replaying up to {written}", detail=replica.log_tail)
        with pages.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar_one() is True
            assert conn.execute(sa.text("SELECT scope, name, monthly_usd FROM budgets")).all() == [
                ("team", "unallocated", Decimal(100))]
            assert conn.execute(sa.text("SELECT actor FROM audit_log")).scalar_one() == "alice@example.com"
        replica_writer = make_engine(make_url(dashboard.env["HYBRIDCOST_WRITER_DATABASE_URL"]).set(port=replica.port))
        for engine in (pages, replica_writer):  # a standby refuses every write, privileges or not
            with engine.connect() as conn, pytest.raises(sa.exc.InternalError) as info:
                conn.execute(sa.text("INSERT INTO budgets (scope, name, monthly_usd) VALUES ('team', 'x', 1)"))
            assert isinstance(info.value.orig, psycopg.errors.ReadOnlySqlTransaction)

        # the exporter service on the replica says what the primary says
        running = processes.start(exporter)
        on_replica = _metrics(f"http://127.0.0.1:{exporter.ports[9464]}/metrics")
        on_primary = {(s.name, tuple(sorted(s.labels.items()))): s.value for family in
                      HybridcostCollector(make_engine(primary.url(database)), clock=lambda: AS_OF).collect()
                      for s in family.samples}
        assert on_replica[("hybridcost_exporter_up", ())] == 1, running.tail()
        burn = ("hybridcost_budget_burn_ratio", (("name", "unallocated"), ("scope", "team")))
        assert on_replica[burn] == pytest.approx(on_primary[burn]) and on_replica[burn] > 1

        # the weekly report reads on the replica too
        context.reset()
        monkeypatch.setenv("DATABASE_URL", dashboard.env["HYBRIDCOST_READER_DATABASE_URL"])
        result = CliRunner().invoke(app, ["report", "weekly", "--format", "xlsx", "--out", str(tmp_path / "out")])
        context.reset()
        assert result.exit_code == 0, result.output
        assert (tmp_path / "out" / "hybridcost-weekly-2026-W46.xlsx").is_file()
        for engine in (pages, writer, replica_writer, admin):
            engine.dispose()
    finally:
        processes.stop_all()
        destroy(replica)
        destroy(primary)


def compose_url(hosts: HostTranslator, service: str) -> str:
    """The DATABASE_URL a service gets."""
    return hosts.process(service, shims=hosts.root).env["DATABASE_URL"]
