"""How the team-path test reads docker-compose.yml: interpolation, services as host processes, drift picked up.

Fast and without a server: the system test (test_deploy_team_path.py) runs what this translates.
"""

from __future__ import annotations

import secrets

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.deploy.team_compose import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ComposeError,
    HostTranslator,
    interpolate,
    load_compose,
    published_ports,
    read_dockerfile,
    read_env_file,
)

PASSWORDS = ("POSTGRES_PASSWORD", "HYBRIDCOST_READER_PASSWORD", "HYBRIDCOST_WRITER_PASSWORD",
             "HYBRIDCOST_OWNER_PASSWORD")


def _env(**extra: str) -> dict[str, str]:
    env = read_env_file(ENV_EXAMPLE)
    env.update({name: secrets.token_hex(8) for name in PASSWORDS}, **extra)
    return env


def _hosts(compose: dict, tmp_path) -> HostTranslator:
    ports = {name: {port: 20000 + port % 1000 for port in published} for name, published in
             published_ports(compose).items() if published}
    return HostTranslator(compose, read_dockerfile(), tmp_path / "hosts", service_ports={
        **ports, "postgres": {5432: 15432}})


def test_interpolation_follows_compose_rules():
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${GONE-d} $$HOME ${SET:+on} ${EMPTY:+on}", env) == \
        "x d  d $HOME on "
    assert interpolate("a ${GONE:-b:${SET}}", env) == "a b:x"
    with pytest.raises(ComposeError, match="EMPTY: set it"):
        interpolate("${EMPTY:?set it}", env)
    assert interpolate("${EMPTY?set it}", env) == ""


def test_env_example_as_shipped_names_the_missing_password():
    with pytest.raises(ComposeError, match=r"_PASSWORD: set \w+_PASSWORD in .env"):
        load_compose(read_env_file(ENV_EXAMPLE))


def test_every_service_becomes_a_loopback_process(tmp_path):
    compose = load_compose(_env(HYBRIDCOST_SMTP_HOST="mail.example.com"))
    hosts = _hosts(compose, tmp_path)
    shims = tmp_path / "bin"
    report = hosts.process("report", shims=shims)
    assert report.argv[:2] == ["/bin/sh", "-c"] and "report weekly --out" in report.argv[2]
    assert f"--out {tmp_path / 'hosts' / 'volumes' / 'reports'} --email" in report.argv[2]
    exporter = hosts.process("exporter", shims=shims)
    assert exporter.argv == ["hybridcost", "exporter", "--host", "127.0.0.1", "--port", "20464"]
    url = make_url(exporter.env["DATABASE_URL"])
    assert (url.host, url.port, url.username) == ("127.0.0.1", 15432, "hybridcost_reader")
    collector = hosts.process("gpu-collector", shims=shims)
    assert collector.env["HYBRIDCOST_DATA_DIR"] == str(tmp_path / "hosts" / "volumes" / "gpu-spool")
    dashboard = hosts.process("dashboard", shims=shims)
    assert dashboard.env["HYBRIDCOST_RUNTIME_DIR"] == str(tmp_path / "hosts" / "dashboard" / "tmpfs" / "run/hybridcost")
    assert dashboard.healthcheck[:2] == ["python", "-c"] and "127.0.0.1:20501" in dashboard.healthcheck[2]
    assert dashboard.env["PATH"].startswith(f"{shims}:")
    assert "POSTGRES_PASSWORD" not in str(dashboard.env)


def test_report_mails_only_with_a_mail_server(tmp_path):
    compose = load_compose(_env())
    assert "--email" not in _hosts(compose, tmp_path).process("report", shims=tmp_path).argv[2]


def test_read_replica_moves_only_the_reader_url(tmp_path):
    compose = load_compose(_env(HYBRIDCOST_READ_REPLICA="pg-replica:5433"))
    hosts = HostTranslator(compose, read_dockerfile(), tmp_path, service_ports={
        "postgres": {5432: 15432}, "pg-replica": {5433: 25433}, "dashboard": {8501: 28501}})
    dashboard = hosts.process("dashboard", shims=tmp_path)
    assert make_url(dashboard.env["HYBRIDCOST_READER_DATABASE_URL"]).port == 25433
    assert make_url(dashboard.env["DATABASE_URL"]).port == 25433
    assert make_url(dashboard.env["HYBRIDCOST_WRITER_DATABASE_URL"]).port == 15432
    assert make_url(hosts.process("pullers", shims=tmp_path).env["DATABASE_URL"]).port == 15432


def test_a_changed_command_in_the_compose_file_is_what_runs(tmp_path):
    doc = yaml.safe_load(COMPOSE_FILE.read_text())
    doc["services"]["exporter"]["command"] = ["exporter", "--host", "0.0.0.0", "--port", "9464", "--changed"]
    changed = tmp_path / "docker-compose.yml"
    changed.write_text(yaml.safe_dump(doc))
    compose = load_compose(_env(), path=changed)
    assert _hosts(compose, tmp_path).process("exporter", shims=tmp_path).argv[-1] == "--changed"


def test_dockerfile_gives_entrypoint_cmd_and_env():
    image = read_dockerfile()
    assert image.entrypoint == ["hybridcost"] and image.cmd[0] == "serve"
    assert image.env["HYBRIDCOST_DATA_DIR"] == "/var/lib/hybridcost"
