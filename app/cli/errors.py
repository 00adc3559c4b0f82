"""User errors: one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import sys

import typer

from ingest.base import SourceError
from ingest.loader import LoadError
from models.clock import AsOfError
from models.economics.contract import OutOfRangeError
from models.economics.published_curves import CatalogError
from models.edits import EditError
from models.infra.embedded import EmbeddedDatabaseError
from models.infra.settings import SecretsFileError
from models.ledger import LedgerError
from models.scenario_file import ScenarioError

USER_ERROR_EXIT = 2


class UserError(Exception):
    """A problem the user can fix; the message is shown as it is."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Every exception type whose message is for the user, not a bug report."""
    return (UserError, SourceError, LoadError, EmbeddedDatabaseError, SecretsFileError, LedgerError, AsOfError,
            ScenarioError, EditError, OutOfRangeError, CatalogError)


def fail(message: str, code: int = USER_ERROR_EXIT) -> typer.Exit:
    """Print `error: message` to stderr and return the Exit to raise."""
    print(f"error: {message}", file=sys.stderr)
    return typer.Exit(code)
