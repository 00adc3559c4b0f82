"""The default pairing catalog: which open model, on how many GPUs, could do the work of an API model.

A workload without a plan of its own is compared with the pairing of its main API model's class,
never with the fastest model in the throughput catalog: a frontier reasoning model is paired
with a large open mixture-of-experts model on 8 GPUs, a mid-size model with a 70B-class model on
2 GPUs, a small one with an 8B-class model on one. Throughput and its source come from the
throughput catalog row the pairing names (`models.economics.catalog.MODEL_THROUGHPUT`). Every
surface marks such a candidate "default pairing, not chosen".

Rules are glob patterns on the lower-cased API model name, tried in order; the first match wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from models.economics import catalog

DEFAULT_PAIRING = "default pairing, not chosen"


@dataclass(frozen=True)
class ModelClass:
    """A class of API models and the open model that could take over its work."""

    name: str
    examples: str
    open_model: str | None  # a throughput catalog model; None: no local equivalent
    gpu_type: str | None
    tensor_parallel: int | None
    why: str

    def throughput(self) -> dict | None:
        """The throughput catalog row of the paired model (per replica, with its source)."""
        if self.open_model is None:
            return None
        return catalog.throughput(self.open_model, self.gpu_type, self.tensor_parallel)


FRONTIER = ModelClass(
    "frontier reasoning", "o1, o3, GPT-5, GPT-4.5, Claude Opus, Gemini Pro, Grok 3/4, DeepSeek R1",
    "DeepSeek-R1-0528 FP8", "H200", 8,
    "a 671B mixture-of-experts reasoning model, the open model closest to frontier reasoning quality; "
    "its FP8 weights (~700 GB) need a full 8-GPU H200 node")
MID = ModelClass(
    "mid-size", "GPT-4.1, GPT-4o, Claude Sonnet, Gemini Flash, Mistral Large, o3-mini / o4-mini",
    "Llama 3.3 70B FP8", "H100", 2,
    "a 70B dense model, comparable to mid-size API models on general tasks; FP8 fits two 80 GB GPUs")
SMALL = ModelClass(
    "small", "GPT-4.1-mini / nano, GPT-4o-mini, Claude Haiku, Gemini Flash-Lite, GPT-3.5",
    "Llama 3.1 8B FP8", "H100", 1,
    "an 8B model, comparable to small API models on classification, extraction and short summaries")
SPEECH = ModelClass(
    "speech, realtime or media", "realtime, audio, TTS, transcription, image and embedding models",
    None, None, None,
    "no open text model in the catalog does this work; the workload stays on tokens")

# (pattern, class), first match wins. Reasoning "mini" models sit above the small rule on purpose.
RULES: tuple[tuple[str, ModelClass], ...] = (
    ("*realtime*", SPEECH), ("*audio*", SPEECH), ("*tts*", SPEECH), ("*transcribe*", SPEECH),
    ("whisper*", SPEECH), ("*embedding*", SPEECH), ("dall-e*", SPEECH), ("*image*", SPEECH),
    ("o1-mini*", MID), ("o3-mini*", MID), ("o4-mini*", MID),
    ("*-nano*", SMALL), ("*-mini*", SMALL), ("*haiku*", SMALL), ("*flash-lite*", SMALL),
    ("gpt-3.5*", SMALL), ("*-8b*", SMALL), ("*mistral-small*", SMALL), ("ministral*", SMALL),
    ("o1*", FRONTIER), ("o3*", FRONTIER), ("gpt-5*", FRONTIER), ("gpt-4.5*", FRONTIER), ("*opus*", FRONTIER),
    ("gemini-*-pro*", FRONTIER), ("gemini-pro*", FRONTIER), ("grok-3*", FRONTIER), ("grok-4*", FRONTIER),
    ("deepseek-reasoner*", FRONTIER), ("*-r1*", FRONTIER),
    ("gpt-4*", MID), ("chatgpt-4o*", MID), ("*sonnet*", MID), ("gemini-*-flash*", MID),
    ("mistral-large*", MID), ("mistral-medium*", MID), ("command-r*", MID), ("*-70b*", MID),
    ("deepseek-chat*", MID),
)
CLASSES = (FRONTIER, MID, SMALL, SPEECH)


def model_class(model: str) -> ModelClass | None:
    """The class of an API model name (any provider), or None when no rule matches it."""
    name = model.strip().lower()
    return next((cls for pattern, cls in RULES if fnmatchcase(name, pattern)), None)


def catalog_rows() -> list[dict]:
    """The pairing catalog as rows for pages, the CLI and the docs: class, examples, pairing, throughput, source."""
    rows = []
    for cls in CLASSES:
        tput = cls.throughput()
        rows.append({
            "api_class": cls.name, "api_models": cls.examples,
            "open_model": cls.open_model or "no local equivalent",
            "gpus": f"{cls.tensor_parallel}x {cls.gpu_type}" if cls.open_model else "",
            "output_tokens_per_s": tput["output_tokens_per_s"] if tput else None,
            "input_tokens_per_s": tput["input_tokens_per_s"] if tput else None,
            "source": f"{tput['source']}; {tput['conversion_note']}" if tput else cls.why,
            "why": cls.why,
        })
    return rows


def markdown_table() -> str:
    """The pairing catalog as a Markdown table (docs/economics.md embeds it; a test keeps them equal)."""
    lines = ["| API model class | examples | default pairing | output tok/s per replica | source |",
             "| --- | --- | --- | --- | --- |"]
    for r in catalog_rows():
        pairing = f"{r['open_model']} on {r['gpus']}" if r["gpus"] else r["open_model"]
        speed = f"{r['output_tokens_per_s']:,.0f}" if r["output_tokens_per_s"] else "—"
        lines.append(f"| {r['api_class']} | {r['api_models']} | {pairing} | {speed} | {r['source']} |")
    return "\n".join(lines)
