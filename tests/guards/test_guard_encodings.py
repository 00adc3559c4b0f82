"""One reader for every file: BOMs and UTF-16 read, other encodings refused with file, line, byte offset and a fix."""

from __future__ import annotations

import codecs

import pytest
from guard_support import refused, run_cli, scalar

from ingest.base import SourceError
from ingest.sources._common import decode_text
from tests_support import FIXTURES, SAMPLES

FOCUS = SAMPLES / "focus" / "focus_sample_ai_ml_rows.csv"


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16-le", b""),  # Excel's "Unicode text" without its mark
    ("utf-32-le", codecs.BOM_UTF32_LE),
])
def test_focus_in_any_unicode_encoding_loads_the_same(cli_env, tmp_path, encoding, bom):
    path = tmp_path / "focus.csv"
    path.write_bytes(bom + FOCUS.read_text(encoding="utf-8").encode(encoding))
    result = run_cli("ingest", "focus", path)
    assert result.code == 0, result.output
    plain = tmp_path / "plain.csv"
    plain.write_bytes(FOCUS.read_bytes())
    assert scalar(cli_env, "SELECT count(*) FROM cost_lines") == 9


def test_latin1_invoice_is_refused_with_line_offset_and_fix(cli_env, tmp_path):
    text = (FIXTURES / "invoice.csv").read_text().replace("Promotional credit", "Crédit promotionnel")
    path = tmp_path / "invoice.csv"
    path.write_bytes(text.encode("latin-1"))
    line = refused(run_cli("ingest", "invoice", path, "--mapping", FIXTURES / "invoice_mapping.yaml"),
                   str(path), "line 4", "byte 0xe9", "byte offset", "iconv -f WINDOWS-1252 -t UTF-8")
    assert "utf-8' codec" not in line
    assert scalar(cli_env, "SELECT count(*) FROM cost_lines") == 0


def test_utf16_invoice_loads(cli_env, tmp_path):
    path = tmp_path / "invoice.csv"
    path.write_bytes((FIXTURES / "invoice.csv").read_text().encode("utf-16"))
    result = run_cli("ingest", "invoice", path, "--mapping", FIXTURES / "invoice_mapping.yaml")
    assert result.code == 0, result.output


@pytest.mark.parametrize("command", [["otel"], ["litellm"], ["langfuse"], ["focus"], ["openai", "--file"],
                                     ["anthropic", "--file"]])
def test_binary_files_are_refused_with_their_place(cli_env, tmp_path, command):
    path = tmp_path / "upload.bin"
    path.write_bytes(b"\xff\xd8\xff\xe0JFIF" + bytes(range(256)) * 8)
    refused(run_cli("ingest", *command, path), str(path), "byte")


def test_nul_in_a_focus_cell_is_refused_with_its_line(cli_env, tmp_path, no_run_left_running):
    lines = FOCUS.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("Azure Machine Learning", "Azure\x00Machine Learning", 1)
    path = tmp_path / "focus.csv"
    path.write_text("".join(lines))
    refused(run_cli("ingest", "focus", path), str(path), "line 4", "NUL byte")
    assert scalar(cli_env, "SELECT count(*) FROM cost_lines") == 0


def test_fx_load_of_utf16_and_latin1(cli_env, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_bytes("date,currency,rate\n2026-10-01,EUR,1.0845\n".encode("utf-16"))
    ok = run_cli("fx", "load", path)
    assert ok.code == 0, ok.output
    path.write_bytes("date,currency,rate\n2026-10-01,EUR,1.0845 \xa0\n".encode("latin-1"))
    refused(run_cli("fx", "load", path), str(path), "line 2", "byte 0xa0")


def test_decode_text_names_the_offset():
    with pytest.raises(SourceError) as err:
        decode_text(b"a,b\nok,\xff\n", "f.csv")
    assert err.value.line == 2 and "byte offset 7" in str(err.value)
