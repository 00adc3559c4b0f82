"""E-mail a finished report (PDF and XLSX attached) over SMTP; settings from HYBRIDCOST_SMTP_*."""

from __future__ import annotations

import mimetypes
import smtplib
from email.message import EmailMessage
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class SmtpSettings(BaseSettings):
    """HYBRIDCOST_SMTP_HOST, _PORT, _USER, _PASSWORD, _FROM, _TO (comma separated), _STARTTLS."""

    model_config = SettingsConfigDict(env_prefix="HYBRIDCOST_SMTP_", extra="ignore", populate_by_name=True)

    host: str | None = None
    port: int = 587
    user: str | None = None
    password: SecretStr | None = None
    sender: str | None = Field(default=None, alias="HYBRIDCOST_SMTP_FROM")
    to: str | None = None
    starttls: bool = True
    timeout_s: float = 30

    @property
    def recipients(self) -> list[str]:
        """The addresses in HYBRIDCOST_SMTP_TO."""
        return [a.strip() for a in (self.to or "").split(",") if a.strip()]

    def missing(self) -> list[str]:
        """Names of the settings that must be set before mail can be sent."""
        need = {"HYBRIDCOST_SMTP_HOST": self.host, "HYBRIDCOST_SMTP_FROM": self.sender,
                "HYBRIDCOST_SMTP_TO": self.recipients}
        return [name for name, value in need.items() if not value]


def build_message(settings: SmtpSettings, *, subject: str, body: str, attachments: list[Path]) -> EmailMessage:
    """A plain-text message with the files attached under their own names."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = settings.sender or ""
    msg["To"] = ", ".join(settings.recipients)
    msg.set_content(body)
    for path in attachments:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def send_report(settings: SmtpSettings, *, subject: str, body: str, attachments: list[Path]) -> None:
    """Send the message; STARTTLS and login when configured. Raises ValueError when settings are missing."""
    missing = settings.missing()
    if missing:
        raise ValueError(f"cannot e-mail the report: set {', '.join(missing)}")
    msg = build_message(settings, subject=subject, body=body, attachments=attachments)
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password.get_secret_value() if settings.password else "")
        smtp.send_message(msg)
