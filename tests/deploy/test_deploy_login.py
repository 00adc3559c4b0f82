"""Login: exposure checks, the generated [auth] secrets, and require_login/can_edit under AppTest."""

from __future__ import annotations

import os
import stat
import tomllib

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from app.cli import context
from app.cli.main import app
from app.cli.serve import auth_secrets_toml, streamlit_command, write_auth_secrets
from models.infra.settings import Settings
from tests_support import APP_ENTRY

OIDC_ENV = {
    "HYBRIDCOST_OIDC_CLIENT_ID": "hybridcost-test",
    "HYBRIDCOST_OIDC_CLIENT_SECRET": 'se"cret\\x',
    "HYBRIDCOST_OIDC_SERVER_METADATA_URL": "http://127.0.0.1:9/.well-known/openid-configuration",
    "HYBRIDCOST_COOKIE_SECRET": "cookie-secret-0123456789",
    "HYBRIDCOST_ALLOWED_EMAILS": "alice@example.com",
    "HYBRIDCOST_ALLOWED_DOMAINS": "corp.example",
    "HYBRIDCOST_EDITOR_EMAILS": "alice@example.com",
}


@pytest.fixture
def oidc_env(monkeypatch):
    """OIDC settings in the environment, caches forgotten before and after."""
    for key, value in OIDC_ENV.items():
        monkeypatch.setenv(key, value)
    context.reset()
    yield OIDC_ENV
    context.reset()


def _clear_oidc(monkeypatch):
    for key in OIDC_ENV:
        monkeypatch.delenv(key, raising=False)
    context.reset()


def test_deploy_up_refuses_public_host_without_login(monkeypatch, tmp_path):
    _clear_oidc(monkeypatch)
    monkeypatch.setenv("HYBRIDCOST_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["up", "--host", "0.0.0.0", "--no-serve"])
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0 without login" in result.output
    assert "HYBRIDCOST_OIDC_CLIENT_ID" in result.output and "--insecure" in result.output
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "without login" in result.output


def test_deploy_up_public_host_allowed_with_login_or_insecure(cli_env, monkeypatch, oidc_env):
    result = CliRunner().invoke(app, ["up", "--host", "0.0.0.0", "--no-serve", "--no-demo"])
    assert result.exit_code == 0, result.output
    _clear_oidc(monkeypatch)
    result = CliRunner().invoke(app, ["up", "--host", "0.0.0.0", "--insecure", "--no-serve", "--no-demo"])
    assert result.exit_code == 0, result.output


def test_deploy_login_without_allowed_users_refuses(cli_env, monkeypatch, oidc_env):
    monkeypatch.delenv("HYBRIDCOST_ALLOWED_EMAILS")
    monkeypatch.delenv("HYBRIDCOST_ALLOWED_DOMAINS")
    context.reset()
    result = CliRunner().invoke(app, ["up", "--no-serve", "--no-demo"])
    assert result.exit_code == 2 and "nobody is allowed" in result.output


def test_deploy_auth_secrets_file_is_private_and_valid(oidc_env, tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRIDCOST_RUNTIME_DIR", str(tmp_path / "run"))
    settings = Settings()
    path = write_auth_secrets(settings, "0.0.0.0", 8600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    auth = tomllib.loads(path.read_text())["auth"]
    assert auth == {"redirect_uri": "http://localhost:8600/oauth2callback",
                    "cookie_secret": OIDC_ENV["HYBRIDCOST_COOKIE_SECRET"],
                    "client_id": "hybridcost-test", "client_secret": 'se"cret\\x',
                    "server_metadata_url": OIDC_ENV["HYBRIDCOST_OIDC_SERVER_METADATA_URL"]}
    assert "--secrets.files" in streamlit_command("0.0.0.0", 8600, path)
    monkeypatch.setenv("HYBRIDCOST_PUBLIC_URL", "https://cost.example.com/")
    assert 'redirect_uri = "https://cost.example.com/oauth2callback"' in auth_secrets_toml(Settings(), "0.0.0.0", 1)
    os.chmod(path, 0o644)
    write_auth_secrets(settings, "0.0.0.0", 8600)  # an old, wider file is narrowed again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_deploy_no_secrets_without_login(monkeypatch, tmp_path):
    _clear_oidc(monkeypatch)
    monkeypatch.setenv("HYBRIDCOST_RUNTIME_DIR", str(tmp_path / "run"))
    assert write_auth_secrets(Settings(), "127.0.0.1", 8501) is None
    assert not (tmp_path / "run").exists()


def _app(user: dict) -> AppTest:
    at = AppTest.from_file(APP_ENTRY, default_timeout=60)
    at.user = user
    return at.run()


def test_deploy_require_login_shows_login_when_signed_out(cli_env, oidc_env):
    at = _app({"is_logged_in": False})
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in"]
    assert not at.title or at.title[0].value == "hybridcost"


def test_deploy_require_login_lets_allowed_users_in(cli_env, oidc_env):
    for email in ("alice@example.com", "Bob@Corp.Example"):
        at = _app({"is_logged_in": True, "email": email, "email_verified": True})
        assert not at.exception
        assert at.title[0].value == "Overview", email
        assert any(email in c.value for c in at.sidebar.caption)


def test_deploy_require_login_refuses_others(cli_env, oidc_env):
    for user in ({"is_logged_in": True, "email": "mallory@evil.example"},
                 {"is_logged_in": True, "email": "alice@example.com.evil.example"},
                 {"is_logged_in": True, "email": "alice@example.com", "email_verified": False},
                 {"is_logged_in": True}):
        at = _app(user)
        assert not at.exception
        assert any("not allowed" in e.value for e in at.error), user
        assert [b.label for b in at.button] == ["Log out"]
        assert all(t.value != "Overview" for t in at.title)


def test_deploy_can_edit_only_for_editors(oidc_env):
    from app.ui.auth import is_allowed, is_editor

    settings = Settings()
    assert is_editor("Alice@example.com", settings)
    assert is_allowed("bob@corp.example", settings) and not is_editor("bob@corp.example", settings)
    assert not is_allowed("bob@notcorp.example", settings) and not is_allowed(None, settings)


def test_deploy_login_off_means_no_gate(cli_env, monkeypatch):
    _clear_oidc(monkeypatch)
    at = _app({"is_logged_in": False})
    assert not at.exception and at.title[0].value == "Overview"
