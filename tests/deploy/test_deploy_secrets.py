"""Secrets come only from the environment or a 0600 secrets file, and never reach output, logs or the database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from models.infra.settings import SecretsFileError, Settings, check_secrets_file, get_settings
from tests_support import REPO_ROOT

FAKE_KEY = "sk-admin-FAKE-123"
FAKE_ANTHROPIC = "sk-ant-admin-FAKE-456"
FAKE_DB_PASSWORD = "pgFAKEpw789"
FAKE_COOKIE = "cookie-FAKE-secret-0000"
FAKE_CLIENT_SECRET = "oidc-FAKE-client-secret"
SECRETS = (FAKE_KEY, FAKE_ANTHROPIC, FAKE_DB_PASSWORD, FAKE_COOKIE, FAKE_CLIENT_SECRET)


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from app.cli.main import main; main()", *args],
                          env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180)


def _text_columns(conn) -> list[tuple[str, str]]:
    return conn.execute(sa.text(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema "
        "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
        "AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED')"
    )).all()


def test_deploy_secrets_never_reach_output_logs_or_database(cli_env, tmp_path):
    # the embedded server trusts its socket, so a password in the URL is accepted and must stay hidden
    db_url = make_url(cli_env).set(password=FAKE_DB_PASSWORD).render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DATABASE_URL": db_url,
           "HYBRIDCOST_DATA_DIR": str(tmp_path / "data"), "HYBRIDCOST_LOG_LEVEL": "DEBUG",
           "OPENAI_ADMIN_KEY": FAKE_KEY, "ANTHROPIC_ADMIN_KEY": FAKE_ANTHROPIC,
           "HYBRIDCOST_COOKIE_SECRET": FAKE_COOKIE, "HYBRIDCOST_OIDC_CLIENT_SECRET": FAKE_CLIENT_SECRET,
           "HYBRIDCOST_OIDC_CLIENT_ID": "cid", "HYBRIDCOST_ALLOWED_DOMAINS": "example.com",
           "HYBRIDCOST_OIDC_SERVER_METADATA_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
           "HYBRIDCOST_READER_PASSWORD": "readerFAKEpw", "HYBRIDCOST_WRITER_PASSWORD": "writerFAKEpw"}
    captured = []
    for args in (["doctor"], ["doctor", "--json"], ["db", "upgrade"], ["db", "roles"],
                 ["demo", "load"], ["spend", "--by", "workload"], ["up", "--no-serve", "--no-demo"]):
        result = _cli(args, env)
        captured.append(f"$ {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}")
    output = "\n".join(captured)
    assert "doctor -> 0" in output, output[-3000:]
    assert "openai_admin_key" in output and "***" in output  # doctor shows that a key is set, not the key
    for secret in SECRETS + ("readerFAKEpw", "writerFAKEpw"):
        assert secret not in output, f"{secret} leaked into CLI output/logs"
    engine = sa.create_engine(cli_env)
    try:
        with engine.connect() as conn:
            columns = _text_columns(conn)
            assert columns
            for table, column in columns:
                for secret in SECRETS:
                    hits = conn.execute(sa.text(
                        f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS text) LIKE :pattern'),
                        {"pattern": f"%{secret}%"}).scalar()
                    assert hits == 0, f"{secret} stored in {table}.{column}"
    finally:
        engine.dispose()
    auth_secrets = tmp_path / "data" / "run" / ".streamlit" / "secrets.toml"
    if auth_secrets.exists():  # the one place the cookie secret must be, private (written by serve)
        assert auth_secrets.stat().st_mode & 0o777 == 0o600
    for path in tmp_path.rglob("*"):  # report files, spool, runtime files written by the commands
        if path.is_file() and path != auth_secrets:
            content = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in content, f"{secret} written to {path}"


def test_deploy_secrets_file_needs_mode_0600(tmp_path, monkeypatch):
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"OPENAI_ADMIN_KEY={FAKE_KEY}\nHYBRIDCOST_COOKIE_SECRET={FAKE_COOKIE}\n")
    monkeypatch.setenv("HYBRIDCOST_SECRETS_FILE", str(secrets_file))
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    os.chmod(secrets_file, 0o644)
    with pytest.raises(SecretsFileError, match="chmod 600"):
        get_settings()
    os.chmod(secrets_file, 0o600)
    settings = get_settings()
    assert settings.openai_admin_key.get_secret_value() == FAKE_KEY
    assert FAKE_KEY not in repr(settings) and FAKE_KEY not in str(settings.redacted())
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-from-env")  # the environment wins over the file
    assert get_settings().openai_admin_key.get_secret_value() == "sk-from-env"
    with pytest.raises(SecretsFileError, match="cannot be read"):
        check_secrets_file(tmp_path / "missing.env")


def test_deploy_secrets_file_mode_error_is_one_line(cli_env, tmp_path):
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"OPENAI_ADMIN_KEY={FAKE_KEY}\n")
    os.chmod(secrets_file, 0o640)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HYBRIDCOST_SECRETS_FILE": str(secrets_file)}
    result = _cli(["doctor"], env)
    assert result.returncode == 2, result.stderr
    assert "chmod 600" in result.stderr and "Traceback" not in result.stderr
    assert FAKE_KEY not in result.stderr + result.stdout


def test_deploy_redacted_hides_every_secret_field(monkeypatch):
    monkeypatch.setenv("HYBRIDCOST_READER_DATABASE_URL", f"postgresql://r:{FAKE_DB_PASSWORD}@db/x")
    monkeypatch.setenv("HYBRIDCOST_OIDC_CLIENT_SECRET", FAKE_CLIENT_SECRET)
    shown = Settings().redacted()
    assert FAKE_DB_PASSWORD not in str(shown) and FAKE_CLIENT_SECRET not in str(shown)
    assert shown["reader_database_url"].startswith("postgresql://r:***@db/x")
