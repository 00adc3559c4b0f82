"""One settings object, read from the environment on demand (never at import)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

ROOT_DATA_DIR = Path("/var/lib/hybridcost")
SECRETS_FILE_ENV = "HYBRIDCOST_SECRETS_FILE"


class SecretsFileError(ValueError):
    """The secrets file is missing, unreadable, readable by others or malformed; the message says which line."""


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

    # env_ignore_empty: an empty variable (as docker compose passes `${X:-}`) means unset
    model_config = SettingsConfigDict(env_prefix="HYBRIDCOST_", extra="ignore", populate_by_name=True,
                                      env_ignore_empty=True)

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
    # Seconds between the dashboard's checks for changed data; after a change it re-warms the default views (0: off).
    cache_warm_seconds: float = 10.0
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
    # Least privilege: the dashboard reads as the reader and edits as the writer (both fall back to DATABASE_URL).
    reader_database_url: SecretStr | None = None
    writer_database_url: SecretStr | None = None
    # Passwords `hybridcost db roles` gives the three roles; a role without one is created NOLOGIN.
    reader_password: SecretStr | None = None
    writer_password: SecretStr | None = None
    owner_password: SecretStr | None = None
    closer_password: SecretStr | None = None  # the role that closes and reopens months (period close)
    # Login (OpenID Connect); all of client id, secret, metadata URL and cookie secret turn it on.
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_server_metadata_url: str | None = None
    cookie_secret: SecretStr | None = None
    public_url: str | None = None  # the dashboard's address as browsers see it; redirect_uri is derived from it
    allowed_emails: str = ""  # comma-separated
    allowed_domains: str = ""  # comma-separated, e.g. "example.com"
    editor_emails: str = ""  # comma-separated; these users get edit controls
    runtime_dir: Path | None = None  # private folder for the generated .streamlit/secrets.toml
    # Contract v2's fixed platform cost F (people, tooling) charged to each workload's plan while any GPU runs,
    # USD per 730-hour month; per team as "team=usd,team=usd" (a team named there takes its own figure).
    platform_usd_per_month: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    platform_usd_per_month_by_team: str = ""
    # Your own published curves and GPU rates (docs/gpu.md): CSV files read after the built-in catalogs.
    published_curves_csv: Path | None = None
    gpu_rates_csv: Path | None = None
    exporter_cache_seconds: float = 5.0
    exporter_refresh_seconds: float = 300.0
    # Reconciliation: a basis whose month differs from the chosen basis by more than this (%) is flagged.
    reconciliation_threshold_pct: float = Field(default=5.0, ge=0)
    # Spend anomalies: |score| (robust z against the weekday-seasonal baseline) and $ impact at least these.
    anomaly_threshold: float = Field(default=4.0, gt=0)
    anomaly_min_usd: float = Field(default=20.0, ge=0)

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

    @property
    def login_configured(self) -> bool:
        """True when every setting OIDC login needs is present."""
        return bool(self.oidc_client_id and self.oidc_client_secret and self.oidc_server_metadata_url
                    and self.cookie_secret)

    @property
    def allowed_email_set(self) -> frozenset[str]:
        """Allowed e-mail addresses, lower-cased."""
        return split_list(self.allowed_emails)

    @property
    def allowed_domain_set(self) -> frozenset[str]:
        """Allowed e-mail domains, lower-cased, without a leading '@'."""
        return frozenset(d.lstrip("@") for d in split_list(self.allowed_domains))

    @property
    def editor_email_set(self) -> frozenset[str]:
        """E-mail addresses of users who may edit, lower-cased."""
        return split_list(self.editor_emails)

    @property
    def private_runtime_dir(self) -> Path:
        """The private runtime folder (0700) for generated files such as secrets.toml."""
        return self.runtime_dir or self.data_dir / "run"

    def redacted(self) -> dict[str, str]:
        """The configuration as strings, every secret and password replaced by '***'."""
        out: dict[str, str] = {}
        for name, value in self:
            if isinstance(value, SecretStr):
                shown = redact_url(value.get_secret_value()) if name.endswith("database_url") else "***"
            else:
                shown = "" if value is None else str(value)
            out[name] = shown
        return out


def redact_url(url: str) -> str:
    """Hide the password in a database URL."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as nothing rather than leaked
        return "***"


def split_list(value: str) -> frozenset[str]:
    """A comma- or whitespace-separated list as a set of lower-cased items."""
    return frozenset(item.strip().lower() for item in value.replace(",", " ").split() if item.strip())


def check_secrets_file(path: Path) -> None:
    """Refuse a secrets file that is missing or that group or others may read or write."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise SecretsFileError(f"secrets file {path} cannot be read ({exc.strerror})") from exc
    if not stat.S_ISREG(mode):
        raise SecretsFileError(f"secrets file {path} is not a regular file")
    if mode & 0o077:
        raise SecretsFileError(f"secrets file {path} has mode {stat.S_IMODE(mode):04o}; "
                               f"run `chmod 600 {path}` so only its owner can read it")


_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_secrets_syntax(path: Path) -> None:
    """Refuse a secrets file with a line that is not blank, a comment or KEY=VALUE (the value is never shown)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsFileError(f"secrets file {path} cannot be read as UTF-8 text ({exc})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, equals, value = line.partition("=")
        if not equals or not _KEY.fullmatch(key.strip()):
            raise SecretsFileError(f"secrets file {path}, line {number}: not KEY=VALUE (a name of letters, digits "
                                   "and _, then '=' and the value); the line is not shown, it may hold a secret")
        value = value.strip()
        if value[:1] in ("'", '"') and value.find(value[0], 1) < 0:
            raise SecretsFileError(f"secrets file {path}, line {number}: the value's opening quote is never closed")


def get_settings() -> Settings:
    """Read the settings from the environment now, plus HYBRIDCOST_SECRETS_FILE (KEY=VALUE, mode 0600).

    Variables in the environment win over the file, so a deployment can override one key.
    """
    secrets_file = os.environ.get(SECRETS_FILE_ENV)
    if secrets_file:
        path = Path(secrets_file).expanduser()
        check_secrets_file(path)
        check_secrets_syntax(path)
        return Settings(_env_file=path, _env_file_encoding="utf-8")
    return Settings()
