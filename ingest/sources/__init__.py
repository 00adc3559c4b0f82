"""Source registry: name -> factory. Built-ins register exactly as plugins do.

A plugin is a distribution with an entry point in the ``hybridcost.sources`` group whose value
is ``module:attr`` (a Source class or factory); ``load_plugins()`` registers it. Built-ins are
registered below with the same ``module:attr`` strings, imported only when first used, so
``import ingest.sources`` stays cheap (no openai SDK import until an OpenAI source is built).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

Factory = Callable[..., Any]
ENTRY_POINT_GROUP = "hybridcost.sources"
REGISTRY: dict[str, Factory | str] = {}


def register(name: str, factory: Factory | str, *, replace: bool = False) -> None:
    """Register a source factory (a callable or a 'module:attr' string) under name."""
    if name in REGISTRY and not replace and REGISTRY[name] != factory:
        raise ValueError(f"source {name!r} is already registered")
    REGISTRY[name] = factory


def resolve(name: str) -> Factory:
    """The factory (usually the Source class) registered under name, imported on first use."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        REGISTRY[name] = factory
    return factory


def create(name: str, *args: Any, **kwargs: Any) -> Any:
    """Build the source registered under name with the given arguments."""
    return resolve(name)(*args, **kwargs)


def load_plugins() -> list[str]:
    """Register every 'hybridcost.sources' entry point; returns the names added."""
    added = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        register(ep.name, ep.value, replace=True)
        added.append(ep.name)
    return added


_BUILTINS = {
    "openai_usage": "ingest.sources.openai_usage:OpenAIUsageSource",
    "openai_costs": "ingest.sources.openai_usage:OpenAICostsSource",
    "openai_usage_file": "ingest.sources.openai_usage:OpenAIUsageFileSource",
    "openai_costs_file": "ingest.sources.openai_usage:OpenAICostsFileSource",
    "anthropic_usage": "ingest.sources.anthropic_usage:AnthropicUsageSource",
    "anthropic_costs": "ingest.sources.anthropic_usage:AnthropicCostSource",
    "anthropic_usage_file": "ingest.sources.anthropic_usage:AnthropicUsageFileSource",
    "anthropic_costs_file": "ingest.sources.anthropic_usage:AnthropicCostFileSource",
    "focus": "ingest.sources.focus:FocusSource",
    "otel_genai": "ingest.sources.otel_genai:OtelGenAISource",
    "litellm": "ingest.sources.litellm:LiteLLMSpendLogsSource",
    "langfuse": "ingest.sources.langfuse:LangfuseSource",
    "invoice": "ingest.sources.invoice_csv:InvoiceCsvSource",
    "litellm_prices": "ingest.sources.litellm_prices:LiteLLMPriceSource",
}
for _name, _target in _BUILTINS.items():
    register(_name, _target)
