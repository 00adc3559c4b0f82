"""The team install, run for real: every docker-compose.yml service's own command against a Debian PostgreSQL.

No container engine runs on CI machines (docs/deploy.md, "Tested without containers"), so the
services run as processes, translated from the compose file by tests/deploy/team_compose.py
(network to loopback, volumes to folders): a change to a service's command, environment,
role or volumes in docker-compose.yml is what this test runs. The .env is `.env.example` with
the blanks a platform team fills in. Around the services: a PostgreSQL cluster made with
initdb, the OpenAI and Anthropic Admin APIs on loopback, a fake NVML, an OpenID provider,
Chromium, an SMTP server and Prometheus with deploy/alerts.yml loaded.

The product clock is pinned to Monday 2026-11-23 06:00Z, the report service's scheduled moment.
"""

from __future__ import annotations

import email
import email.policy
import re
import secrets
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.ui.format import usd
from tests.deploy import team_providers as providers_mod
from tests.deploy.team_cluster import create_cluster, destroy, free_port, postgres_bin_dir, wait_until
from tests.deploy.team_compose import (
    ENV_EXAMPLE,
    HostTranslator,
    load_compose,
    published_ports,
    read_dockerfile,
    read_env_file,
    write_shims,
)
from tests.deploy.team_gpu_host import BUSY_PCT, CLOCK_ENV, GPU_UUIDS
from tests.deploy.team_stack import (
    Inbox,
    Processes,
    oidc_provider,
    prometheus,
    prometheus_query,
    prometheus_rules,
    prometheus_targets,
    wait_healthy,
    write_sleep_shim,
)
from tests_support import REPO_ROOT, require_program, require_system_run

pytestmark = [pytest.mark.system, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:.*authlib.jose module is deprecated.*")]

AS_OF = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday at HYBRIDCOST_REPORT_TIME
WEEK, WEEK_FIRST, WEEK_LAST = "2026-W47", date(2026, 11, 16), date(2026, 11, 22)
MONTH_FIRST = date(2026, 11, 1)  # month to date at AS_OF: Nov 1..22 (the data's last day)
SERVICES = {"postgres", "migrate", "dashboard", "pullers", "report", "exporter", "gpu-collector"}
EDITOR, READER = "alice@example.com", "bob@example.com"
ROLE_WORDS = {"reader": "hybridcost_reader", "writer": "hybridcost_writer", "owner": "hybridcost_owner"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _team_env(ports: dict[str, int], oidc_url: str, api: providers_mod.Providers, smtp_port: int) -> dict[str, str]:
    """`.env.example` with the values a platform team fills in (and short intervals for the test)."""
    env = read_env_file(ENV_EXAMPLE)
    env.update({name: secrets.token_hex(24) for name in ("POSTGRES_PASSWORD", "HYBRIDCOST_READER_PASSWORD",
                                                         "HYBRIDCOST_WRITER_PASSWORD", "HYBRIDCOST_OWNER_PASSWORD")})
    env.update(HYBRIDCOST_OIDC_CLIENT_ID="hybridcost-team", HYBRIDCOST_OIDC_CLIENT_SECRET=secrets.token_hex(16),
               HYBRIDCOST_OIDC_SERVER_METADATA_URL=oidc_url, HYBRIDCOST_COOKIE_SECRET=secrets.token_hex(32),
               HYBRIDCOST_PUBLIC_URL=f"http://127.0.0.1:{ports['dashboard']}",
               HYBRIDCOST_ALLOWED_DOMAINS="example.com", HYBRIDCOST_EDITOR_EMAILS=EDITOR,
               OPENAI_ADMIN_KEY=providers_mod.OPENAI_KEY, OPENAI_BASE_URL=api.openai_base_url,
               ANTHROPIC_ADMIN_KEY=providers_mod.ANTHROPIC_KEY, ANTHROPIC_BASE_URL=api.url,
               HYBRIDCOST_PULL_INTERVAL_SECONDS="3",
               HYBRIDCOST_SMTP_HOST="127.0.0.1", HYBRIDCOST_SMTP_PORT=str(smtp_port),
               HYBRIDCOST_SMTP_FROM="hybridcost@example.com", HYBRIDCOST_SMTP_TO="finance@example.com, ops@example.com",
               HYBRIDCOST_SMTP_STARTTLS="false")
    return env


def _documented_roles() -> dict[str, str]:
    """Service -> role of its DATABASE_URL, from docs/deploy.md's service table."""
    roles = {}
    for line in (REPO_ROOT / "docs" / "deploy.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].strip("`") in SERVICES:
            roles[cells[0].strip("`")] = cells[2].split()[0]
    return roles


def _url_user(env: dict[str, str], name: str = "DATABASE_URL") -> str:
    return make_url(env[name]).username


def _sum(conn, sql: str, **params) -> Decimal:
    return conn.execute(sa.text(sql), params).scalar_one() or Decimal(0)


def _sign_in(browser, url: str, who: str):
    """Open the dashboard in a fresh browser context and sign in at the provider as `who`."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(120_000)  # a cold first page on a loaded 2-core machine
    page.goto(url)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("input[name=sub]")
    page.fill("input[name=sub]", who)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**")
    return context, page


def _save_budget(page, team: str, amount: str) -> None:
    page.get_by_role("heading", name="Overview").wait_for()
    # a select of the known teams and workloads that accepts a typed name: type it, Enter picks it
    field = page.get_by_role("combobox", name=re.compile("Team or workload"))
    field.wait_for()
    field.click()
    field.fill(team)
    page.keyboard.press("Enter")
    page.get_by_label("Budget (USD per month)").fill(amount)
    page.get_by_role("button", name="Save budget").click()


def test_team_path_every_compose_service_against_debian_postgres(tmp_path):
    require_system_run("the team-path test (every compose service against a Debian PostgreSQL, about 2 minutes)")
    chromium, prom_bin = require_program("chromium"), require_program("prometheus")
    postgres_bin_dir()  # skips (or fails under HYBRIDCOST_REQUIRE_SYSTEM_TESTS=1) without Debian's server
    sync_api = pytest.importorskip("playwright.sync_api")
    pytest.importorskip("oidc_provider_mock")
    api = providers_mod.Providers(providers_mod.month_of_days(date(2026, 10, 25), date(2026, 11, 22)))
    api_server = providers_mod.serve(api)
    inbox = Inbox()
    processes = Processes(logs=tmp_path)
    cluster = None
    try:
        with oidc_provider() as oidc_url, inbox.running():
            # ports: a free host port for every published container port, and the database's
            probe = load_compose(_team_env({"dashboard": 0}, oidc_url, api, inbox.port))
            assert set(probe["services"]) == SERVICES, "a compose service this test does not run: add it here"
            service_ports = {name: {port: free_port() for port in ports}
                             for name, ports in published_ports(probe).items() if ports}
            env = _team_env({"dashboard": service_ports["dashboard"][8501]}, oidc_url, api, inbox.port)
            compose = load_compose(env)
            pg_env = compose["services"]["postgres"]["environment"]
            cluster = create_cluster(superuser=pg_env["POSTGRES_USER"], password=pg_env["POSTGRES_PASSWORD"],
                                     initdb_args=pg_env.get("POSTGRES_INITDB_ARGS", ""))
            cluster.execute("postgres", f'CREATE DATABASE "{pg_env["POSTGRES_DB"]}"')
            service_ports["postgres"] = {5432: cluster.port}
            hosts = HostTranslator(compose, read_dockerfile(), tmp_path / "hosts", service_ports=service_ports)
            shims = write_shims(tmp_path / "bin")
            pinned = {"HYBRIDCOST_AS_OF": AS_OF.isoformat()}
            spec = {name: hosts.process(name, shims=shims, extra_env=pinned)
                    for name in SERVICES - {"postgres", "gpu-collector", "report"}}
            spec["gpu-collector"] = hosts.process("gpu-collector", shims=write_shims(tmp_path / "gpu-bin", gpu_host=True),
                                                  extra_env={**pinned, CLOCK_ENV: (AS_OF - timedelta(minutes=10)).isoformat()})
            sleep_record = tmp_path / "report-sleep.txt"
            report_bin = write_sleep_shim(write_shims(tmp_path / "report-bin"), sleep_record)
            spec["report"] = hosts.process("report", shims=report_bin, extra_env=pinned)
            _check_roles_match_docs(spec, pg_env["POSTGRES_USER"])
            admin = sa.create_engine(cluster.url(pg_env["POSTGRES_DB"]))
            try:
                _run_team_path(processes, spec, admin, api, inbox, chromium, prom_bin, sync_api, sleep_record,
                               tmp_path)
            finally:
                admin.dispose()
    finally:
        processes.stop_all()
        api_server.shutdown()
        destroy(cluster)


def _check_roles_match_docs(spec, admin_user: str) -> None:
    documented = _documented_roles()
    for name, process in spec.items():
        word = documented[name]
        expected = admin_user if word == "admin" else ROLE_WORDS[word]
        assert _url_user(process.env) == expected, f"{name}: docker-compose.yml connects as " \
            f"{_url_user(process.env)}, docs/deploy.md says {word}"
    assert _url_user(spec["dashboard"].env, "HYBRIDCOST_WRITER_DATABASE_URL") == ROLE_WORDS["writer"]
    assert _url_user(spec["dashboard"].env, "HYBRIDCOST_READER_DATABASE_URL") == ROLE_WORDS["reader"]


_T0 = [0.0]


def _step(what: str) -> None:
    """Print how long the run has taken so far (shown by pytest when the test fails, or with -s)."""
    print(f"team path: {what} at {time.monotonic() - _T0[0]:.1f} s", flush=True)


def _run_team_path(processes, spec, admin, api, inbox, chromium, prom_bin, sync_api, sleep_record, tmp_path):
    _T0[0] = time.monotonic()
    # migrate: upgrade and roles as the admin, once
    migrate = processes.run(spec["migrate"], timeout=180)
    assert migrate.proc.returncode == 0, migrate.tail()
    with admin.connect() as conn:
        owners = set(conn.execute(sa.text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"))
                     .scalars())
        logins = dict(conn.execute(sa.text("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'hybridcost_%'"
                                           " AND rolname <> current_user")).all())
    assert owners == {"hybridcost_owner"}
    # the closer has no login without HYBRIDCOST_CLOSER_PASSWORD (compose sets none): periods close as the owner
    assert logins == {"hybridcost_reader": True, "hybridcost_writer": True, "hybridcost_owner": True,
                      "hybridcost_closer": False}

    _step("migrated")
    collector = processes.start(spec["gpu-collector"])
    exporter = processes.start(spec["exporter"])
    dashboard = processes.start(spec["dashboard"])
    pullers = processes.start(spec["pullers"])
    scheduled = _PullsThenReport(processes, pullers, spec["report"])
    scheduled.start()  # while the browser works
    with prometheus(prom_bin, tmp_path / "prometheus", target=f"127.0.0.1:{exporter.spec.ports[9464]}",
                    rule_files=[REPO_ROOT / "deploy" / "alerts.yml"]) as prom:
        wait_healthy(dashboard)
        _step("dashboard healthy")
        _browser_checks(sync_api, chromium, f"http://127.0.0.1:{spec['dashboard'].ports[8501]}", admin, api)
        _step("browser done")
        report = scheduled.report(timeout=240)
        _check_pulls(pullers, api, admin)
        _step("pulls checked")

        def gpus_seen() -> bool:
            with admin.connect() as conn:
                return conn.execute(sa.text("SELECT count(DISTINCT gpu_uuid) FROM gpu_samples")).scalar_one() == \
                    len(GPU_UUIDS)

        wait_until(gpus_seen, timeout=60, what="samples of both GPUs", detail=collector.tail)
        _check_report(report, inbox, api, sleep_record, tmp_path / "hosts" / "volumes" / "reports")
        _step("report checked")
        _check_alerts(prom, exporter, api)
        _step("alerts checked")
    for item in (collector, exporter, dashboard):
        assert item.alive(), item.tail()


class _PullsThenReport(threading.Thread):
    """In the background: two scheduled pull rounds, the pullers stopped in their sleep, then the report started."""

    def __init__(self, processes: Processes, pullers, report_spec):
        super().__init__(daemon=True)
        self.processes, self.pullers, self.report_spec = processes, pullers, report_spec
        self.error: BaseException | None = None
        self.started_report = None

    def run(self) -> None:
        """Wait for two finished rounds, stop the loop at once, start the report service."""
        try:
            def two_rounds() -> bool:
                text = self.pullers.log.read_text(errors="replace")
                assert self.pullers.alive(), self.pullers.tail()
                return len(re.findall(r"^openai: \d+ loads", text, re.MULTILINE)) >= 2 and \
                    len(re.findall(r"^anthropic: \d+ loads", text, re.MULTILINE)) >= 2

            wait_until(two_rounds, timeout=200, interval=0.1, what="two pull rounds", detail=self.pullers.tail)
            self.processes.stop(self.pullers)
            _step("two pull rounds")
            self.started_report = self.processes.start(self.report_spec)  # its wait for Monday ends at once
        except BaseException as exc:  # handed to the test thread
            self.error = exc

    def report(self, timeout: float):
        """The started report service, once the pulls are done (or the failure that stopped them)."""
        self.join(timeout)
        assert not self.is_alive(), f"pulls not done within {timeout:.0f} s. {self.pullers.tail()}"
        if self.error is not None:
            raise self.error
        return self.started_report


def _check_pulls(pullers, api, admin) -> None:
    """Two scheduled rounds, no failure, the overlap re-read, every dollar of the month exactly once."""
    assert "failed" not in pullers.log.read_text(), pullers.tail()
    assert api.refused == 0
    # the cursor minus the overlap, floored to 00:00 UTC (the daily buckets' boundary): re-read, not re-counted
    second_round_from = (AS_OF - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert {(p, k) for p, k, start in api.asked if start == second_round_from} == {
        ("openai", "usage"), ("openai", "costs"), ("anthropic", "usage"), ("anthropic", "costs")}
    with admin.connect() as conn:
        assert _sum(conn, "SELECT sum(billed_cost) FROM cost_lines WHERE provider = 'openai'") == api.openai_total_usd()
        assert _sum(conn, "SELECT sum(billed_cost) FROM cost_lines WHERE provider = 'anthropic'") == \
            api.anthropic_total_usd()
        assert conn.execute(sa.text("SELECT count(*) FROM usage_hourly")).scalar_one() == 2 * len(api.days)
        assert conn.execute(sa.text("SELECT count(*) FROM ingest_runs WHERE status <> 'succeeded'")).scalar_one() == 0


def _browser_checks(sync_api, chromium, url, admin, api) -> None:
    """A reader is refused an edit, then an editor's edit is saved and audited; the pulled month shows."""
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            # the reader first: the editor's save clears the shared caches, a reader after it would load cold
            context, page = _sign_in(browser, url, READER)
            page.get_by_text(f"Signed in as {READER}").wait_for()
            _step("reader signed in")
            assert page.get_by_text("· editor").count() == 0
            _save_budget(page, "unallocated", "1000000")
            page.get_by_text("Budget not saved").wait_for()
            context.close()
            _step("reader refused")

            context, page = _sign_in(browser, url, EDITOR)
            page.get_by_text(f"Signed in as {EDITOR} · editor").wait_for()
            _save_budget(page, "unallocated", "100")
            page.get_by_text("Saved the team budget for unallocated.").wait_for()
            # the pulled month reaches the page through the reader role: the budget warning's month to date
            page.get_by_text(f"(month to date {usd(api.total_usd(MONTH_FIRST, WEEK_LAST))})").wait_for()
            context.close()
        finally:
            browser.close()
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT scope, name, monthly_usd FROM budgets")).all() == [
            ("team", "unallocated", Decimal(100))]
        audit = conn.execute(sa.text("SELECT actor, entity, action FROM audit_log ORDER BY id")).all()
    assert audit == [(EDITOR, "budget", "create")]


def _check_report(report, inbox, api, sleep_record, out: Path) -> None:
    wait_until(lambda: inbox.messages, timeout=180, interval=0.5, what="the weekly report e-mail", detail=report.tail)
    asked_at, seconds = (int(v) for v in sleep_record.read_text().split())
    wakes = datetime.fromtimestamp(asked_at + seconds, UTC)
    assert 0 < seconds <= 7 * 86400 and wakes.weekday() == 0, wakes
    assert abs((wakes - wakes.replace(hour=6, minute=0, second=0)).total_seconds()) <= 2, wakes
    sender, rcpts, raw = inbox.messages[0]
    assert sender == "hybridcost@example.com" and rcpts == ["finance@example.com", "ops@example.com"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == f"hybridcost weekly report {WEEK}"
    files = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
    assert set(files) == {f"hybridcost-weekly-{WEEK}.pdf", f"hybridcost-weekly-{WEEK}.xlsx"}
    assert files[f"hybridcost-weekly-{WEEK}.pdf"].startswith(b"%PDF")
    body = msg.get_body(preferencelist=("plain",)).get_content()
    week_total = api.total_usd(WEEK_FIRST, WEEK_LAST)
    assert f"to {usd(week_total)} in {WEEK}" in body, body
    assert {p.name for p in out.iterdir()} >= {f"hybridcost-weekly-{WEEK}.{ext}" for ext in ("html", "pdf", "xlsx")}
    wait_until(lambda: "e-mailed" in report.log.read_text(), timeout=10, what="report says e-mailed",
               detail=report.tail)
    assert "failed" not in report.log.read_text(), report.tail()


def _check_alerts(prom: str, exporter, api) -> None:
    """The shipped rules, evaluated by Prometheus on the exporter's figures: budget and GPU alerts pending."""
    def states() -> dict[str, tuple[str, set]] | None:
        rules = prometheus_rules(prom)
        if not rules or any(r.get("lastEvaluation", "").startswith("0001") for r in rules):
            return None
        got = {r["name"]: (r["state"], {tuple(sorted(a["labels"].items())) for a in r.get("alerts", [])})
               for r in rules}
        return got if got["HybridcostGpuSaturated"][0] == "pending" and \
            got["HybridcostBudgetForecastOver"][0] == "pending" else None

    got = wait_until(states, timeout=120, interval=0.5, what="the shipped alert rules evaluated and pending",
                     detail=lambda: f"{prometheus_targets(prom)} {prometheus_rules(prom)} {exporter.tail()}")
    rules = prometheus_rules(prom)
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    assert got["HybridcostExporterDown"][0] == "inactive"
    budget_alerts = {dict(labels)["name"] for labels in got["HybridcostBudgetForecastOver"][1]}
    assert budget_alerts == {"unallocated"}
    gpus = {dict(labels)["gpu_uuid"] for labels in got["HybridcostGpuSaturated"][1]}
    assert gpus == set(GPU_UUIDS)
    burn = {s["metric"]["name"]: float(s["value"][1]) for s in prometheus_query(prom, "hybridcost_budget_burn_ratio")}
    month_to_date = float(api.total_usd(MONTH_FIRST, WEEK_LAST))
    elapsed_hours = (AS_OF - AS_OF.replace(day=1, hour=0)).total_seconds() / 3600  # the page's rule: month_end
    assert burn == {"unallocated": pytest.approx(month_to_date / elapsed_hours * 30 * 24 / 100)}
    saturation = {s["metric"]["gpu_uuid"]: float(s["value"][1])
                  for s in prometheus_query(prom, "hybridcost_gpu_saturation")}
    assert saturation == {uuid: pytest.approx(BUSY_PCT / 100) for uuid in GPU_UUIDS}
