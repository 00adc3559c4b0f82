"""One settings object, read from the environment on demand (never at import)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT_DATA_DIR = Path("/var/lib/hybridcost")


def default_data_dir() -> Path:
    """The data folder: the user's data folder, or /var/lib/hybridcost as root.

    As root the embedded server runs under a system user of its own and makes every
    parent of its folder world-readable, so root must not use a folder under /root.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ROOT_DATA_DIR
    return Path(platformdirs.user_data_dir("hybridcost", appauthor=False))


class Settings(BaseSettings):
    """Effective configuration: HYBRIDCOST_* variables, plus plain DATABASE_URL and SDK keys."""

    model_config = SettingsConfigDict(env_prefix="HYBRIDCOST_", extra="ignore", populate_by_name=True)

    database_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "HYBRIDCOST_DATABASE_URL")
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 8501
    reporting_currency: str = "USD"
    # Who edits are recorded as in the audit log when no --actor is given (default: the OS user).
    actor: str | None = None
    raw_retention_days: int = 30
    cache_ttl_seconds: int = 300
    openai_admin_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_ADMIN_KEY", "HYBRIDCOST_OPENAI_ADMIN_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "HYBRIDCOST_OPENAI_BASE_URL")
    )
    anthropic_admin_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_ADMIN_KEY", "HYBRIDCOST_ANTHROPIC_ADMIN_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "HYBRIDCOST_ANTHROPIC_BASE_URL")
    )

    @property
    def uses_embedded(self) -> bool:
        """True when no DATABASE_URL is set and the embedded server is used."""
        return self.database_url is None

    @property
    def pg_dir(self) -> Path:
        """The embedded server's data folder."""
        return self.data_dir / "pg"

    @property
    def spool_dir(self) -> Path:
        """Where collectors keep samples while the database is away."""
        return self.data_dir / "spool"

    def redacted(self) -> dict[str, str]:
        """The configuration as strings, every secret and password replaced by '***'."""
        out: dict[str, str] = {}
        for name, value in self:
            if isinstance(value, SecretStr):
                shown = redact_url(value.get_secret_value()) if name == "database_url" else "***"
            else:
                shown = "" if value is None else str(value)
            out[name] = shown
        return out


def redact_url(url: str) -> str:
    """Hide the password in a database URL."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as nothing rather than leaked
        return "***"


def get_settings() -> Settings:
    """Read the settings from the environment now."""
    return Settings()
