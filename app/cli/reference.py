"""Generate docs/cli.md from the commands themselves, so the reference cannot drift.

Run `python -m app.cli.reference > docs/cli.md`; a test fails when the file is stale.
"""

from __future__ import annotations

import typer

HEADER = """# Command-line reference

Generated from `--help` by `python -m app.cli.reference > docs/cli.md`; a test checks it is current.

Conventions every command follows: dates are UTC calendar days, and `--since A --until B`
means [A 00:00Z, B+1 00:00Z); without them, the last 30 days. `--json` writes only JSON to
stdout (an array of flat objects, numbers as numbers, no total row); progress and logs go
to stderr. A user error prints one line starting with `error:` and exits 2; a database error
exits 3. Provider credentials use each SDK's environment names (`OPENAI_ADMIN_KEY`,
`OPENAI_BASE_URL`, `ANTHROPIC_ADMIN_KEY`, `ANTHROPIC_BASE_URL`).
"""


def _param_line(param) -> str:
    if param.param_type_name == "argument":
        return f"- `{(param.metavar or param.name.upper())}` (argument){': ' + param.help if getattr(param, 'help', None) else ''}"
    opts = ", ".join(f"`{o}`" for o in param.opts + param.secondary_opts)
    text = getattr(param, "help", None) or ""
    default = param.default
    shown = "" if default in (None, False, (), "") or callable(default) else f" (default: `{default}`)"
    return f"- {opts}: {text}{shown}"


def _walk(cmd, path: list[str], out: list[str]) -> None:
    name = " ".join(path)
    if hasattr(cmd, "list_commands"):  # a group (Typer vendors its own click)
        if len(path) > 1:
            out += [f"## `{name}`", "", (cmd.help or "").strip(), ""]
        global_params = [p for p in cmd.params if p.name != "help"]
        if len(path) == 1 and global_params:
            out += ["## Options of every command", "", "Given before the command name, for example "
                    "`hybridcost --as-of 2026-10-31T23:00Z report weekly`.", ""]
            out += [_param_line(p) for p in global_params] + [""]
        ctx = cmd.context_class(cmd)
        for sub_name in sorted(cmd.list_commands(ctx)):
            _walk(cmd.get_command(ctx, sub_name), path + [sub_name], out)
        return
    level = "###" if len(path) > 2 else "##"
    out += [f"{level} `{name}`", "", (cmd.help or "").strip().splitlines()[0] if cmd.help else "", ""]
    params = [p for p in cmd.params if p.name != "help"]
    if params:
        out += [_param_line(p) for p in params] + [""]


def render(app: typer.Typer) -> str:
    """The markdown reference of every command of `app`."""
    out: list[str] = [HEADER]
    _walk(typer.main.get_command(app), ["hybridcost"], out)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    from app.cli.main import app

    print(render(app), end="")
