"""The finance-grade ledger: currencies, gross and net, commitments, GPU pools, period close, edits."""


class LedgerError(ValueError):
    """Bad ledger input (a rate file, a commitment, a period): the message names the file, line or month."""
