"""The source registry: every built-in resolves to a Source, plugins register the same way."""

from __future__ import annotations

from datetime import date

import pytest

import ingest.sources as sources
from ingest.base import Source


@pytest.mark.parametrize("name", sorted(sources._BUILTINS))
def test_builtins_resolve_and_have_names(name):
    factory = sources.resolve(name)
    assert factory.name == name and factory.__doc__
    assert callable(getattr(factory, "collect")) and callable(getattr(factory, "describe"))


def test_create_a_file_source(fixtures):
    src = sources.create("litellm_prices", fixtures / "litellm_prices.json", date(2026, 1, 1))
    assert isinstance(src, Source) and src.describe().startswith("file ")


def test_plugin_style_registration():
    sources.register("test_plugin_src", "ingest.sources.focus:FocusSource")
    try:
        assert sources.resolve("test_plugin_src").name == "focus"
        with pytest.raises(ValueError):
            sources.register("test_plugin_src", lambda: None)
    finally:
        sources.REGISTRY.pop("test_plugin_src")
    with pytest.raises(KeyError, match="unknown source"):
        sources.resolve("nope")
    assert isinstance(sources.load_plugins(), list)
