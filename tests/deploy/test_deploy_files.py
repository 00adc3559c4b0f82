"""Deployment files validate offline: compose schema, hadolint, promtool, and .env.example covers every setting."""

from __future__ import annotations

import re
import subprocess

import yaml
from pydantic import AliasChoices

from models.infra.settings import Settings
from tests_support import REPO_ROOT, require_program


def _tool(name: str) -> str:
    """A pip-installed validator's path, or skip (fail under HYBRIDCOST_REQUIRE_SYSTEM_TESTS=1)."""
    return require_program(name, "pip install -e '.[test]'")


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_deploy_compose_matches_compose_spec():
    result = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_dockerfile_passes_hadolint():
    result = _run(_tool("hadolint"), "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_alert_rules_pass_promtool():

    promtool = require_program("promtool")
    result = _run(promtool, "check", "rules", "deploy/alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def _env_names(name: str, field) -> set[str]:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return {str(choice) for choice in alias.choices}
    return {f"HYBRIDCOST_{name.upper()}"}


def test_deploy_env_example_documents_every_setting():
    text = (REPO_ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    missing = [name for name, field in Settings.model_fields.items() if not (_env_names(name, field) & listed)]
    assert not missing, f".env.example lacks settings: {missing}"
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", compose))
    assert used <= listed, f"docker-compose.yml uses variables .env.example does not list: {used - listed}"


def test_deploy_compose_shape():
    services = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]
    assert services["postgres"]["image"] == "postgres:18"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "db upgrade" in services["migrate"]["command"][0] and "db roles" in services["migrate"]["command"][0]
    assert services["dashboard"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["dashboard"]["command"][:3] == ["serve", "--host", "0.0.0.0"]
    gpu = services["gpu-collector"]
    assert gpu["profiles"] == ["gpu"] and gpu["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    assert "monday" in services["report"]["command"][0] and "report weekly --out /reports" in services["report"]["command"][0]
    for name in ("dashboard", "pullers", "report", "exporter", "gpu-collector"):  # the admin password stays out
        assert "POSTGRES_PASSWORD" not in str(services[name].get("environment", {})), name
