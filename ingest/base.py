"""The small interface every source implements, and the error it raises."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from ingest.records import CostLine, GpuHourlyAggregate, GpuSample, InferenceSample, Price, UsageHourly, UsageRequest

Record = UsageHourly | UsageRequest | CostLine | Price | GpuSample | InferenceSample | GpuHourlyAggregate


class SourceError(ValueError):
    """Bad input from a source: the message names the file or page, the line and the field."""

    def __init__(self, where: str, problem: str, *, line: int | None = None, field: str | None = None):
        self.where, self.problem, self.line, self.field = where, problem, line, field
        parts = [where]
        if line is not None:
            parts.append(f"line {line}")
        if field:
            parts.append(f"field {field!r}")
        super().__init__(f"{', '.join(parts)}: {problem}")


@runtime_checkable
class Source(Protocol):
    """A source has a name and yields typed records; it never touches the database."""

    name: str

    def collect(self) -> Iterator[Record]:
        """Yield the records this source holds, raising SourceError on bad input."""
        ...

    def describe(self) -> str:
        """Say what this source reads (a file path and hash, an API window) for the run record."""
        ...
