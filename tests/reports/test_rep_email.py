"""`report weekly --email`: the mail reaches a real local SMTP server with the PDF and XLSX attached."""

from __future__ import annotations

import email
import email.policy
import socket

import rep_seed
from aiosmtpd.controller import Controller

from tests_support import require_program


class _Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rep_email_arrives_with_pdf_and_xlsx(engine, cli_env, tmp_path):
    require_program("chromium")
    rep_seed.seed(engine)
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        result = rep_seed.run_cli(
            ["report", "weekly", "--week", rep_seed.WEEK, "--out", str(tmp_path / "out"), "--email"],
            {"DATABASE_URL": cli_env, "HYBRIDCOST_SMTP_HOST": "127.0.0.1", "HYBRIDCOST_SMTP_PORT": str(port),
             "HYBRIDCOST_SMTP_FROM": "reports@example.com",
             "HYBRIDCOST_SMTP_TO": "finance@example.com, ops@example.com",
             "HYBRIDCOST_SMTP_STARTTLS": "false"})
    finally:
        controller.stop()
    assert result.exit_code == 0, result.stderr
    assert len(inbox.messages) == 1
    rcpts, raw = inbox.messages[0]
    assert rcpts == ["finance@example.com", "ops@example.com"]
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == f"hybridcost weekly report {rep_seed.WEEK}"
    files = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
    assert set(files) == {f"hybridcost-weekly-{rep_seed.WEEK}.pdf", f"hybridcost-weekly-{rep_seed.WEEK}.xlsx"}
    assert files[f"hybridcost-weekly-{rep_seed.WEEK}.pdf"].startswith(b"%PDF")
    assert files[f"hybridcost-weekly-{rep_seed.WEEK}.xlsx"].startswith(b"PK")
    assert "Token spend" in msg.get_body(preferencelist=("plain",)).get_content()


def test_rep_email_without_settings_says_which_are_missing(engine, cli_env, tmp_path, monkeypatch):
    for name in ("HOST", "FROM", "TO"):
        monkeypatch.delenv(f"HYBRIDCOST_SMTP_{name}", raising=False)
    rep_seed.seed(engine)
    result = rep_seed.run_cli(["report", "weekly", "--week", rep_seed.WEEK, "--out", str(tmp_path / "out"),
                               "--format", "xlsx", "--email"], {"DATABASE_URL": cli_env})
    assert result.exit_code != 0
    assert "HYBRIDCOST_SMTP_HOST" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "out" / f"hybridcost-weekly-{rep_seed.WEEK}.xlsx").is_file()
