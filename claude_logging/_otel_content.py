"""Captured content in the OpenTelemetry GenAI shape: structured input, output and system messages.

The flat `prompt` is the request's `system` and `messages` as JSON text, and `completion` the
response text. The otel schema writes them as the structured attributes of the GenAI conventions
(messages of `role` and `parts`), but only where that is exact: the conversion must read back to
the very same text, so a prompt that was cut to its cap, redacted into another shape, or holds
blocks other than text stays under `claude.prompt` as it was.
"""

from __future__ import annotations

import json
from typing import Any, Final

from claude_logging._fieldmap import Unit

INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"


def _parts(content: object) -> list[dict[str, Any]] | None:
    """Text parts of a message's `content` (a string or a list of text blocks); None for anything else."""
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    if isinstance(content, list) and all(
        isinstance(block, dict) and set(block) == {"type", "text"} and block["type"] == "text"
        for block in content
    ):
        return [{"type": "text", "content": block["text"]} for block in content]
    return None


def _content(parts: list[dict[str, Any]]) -> object:
    """The inverse of `_parts`: one part is a string, several are text blocks."""
    if len(parts) == 1:
        return parts[0]["content"]
    return [{"type": "text", "text": part["content"]} for part in parts]


def _structured(prompt: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None] | None:
    """(input messages, system instructions) of a flat prompt, or None when not exactly convertible."""
    try:
        document = json.loads(prompt)
    except ValueError:
        return None
    if not isinstance(document, dict) or not set(document) <= {"system", "messages"}:
        return None
    messages = _messages(document.get("messages", []))
    if messages is None:
        return None
    system = None
    if "system" in document:
        system = _parts(document["system"])
        if system is None:
            return None
    if _prompt(messages, system, has_messages="messages" in document) != prompt:
        return None
    return messages, system


def _messages(listed: object) -> list[dict[str, Any]] | None:
    """Messages of roles and text parts, or None when one of them holds anything else."""
    if not isinstance(listed, list):
        return None
    messages: list[dict[str, Any]] = []
    for message in listed:
        valid = isinstance(message, dict) and set(message) == {"role", "content"}
        parts = _parts(message["content"]) if valid else None
        if parts is None or not isinstance(message["role"], str):
            return None
        messages.append({"role": message["role"], "parts": parts})
    return messages


def _prompt(
    messages: list[dict[str, Any]], system: list[dict[str, Any]] | None, *, has_messages: bool
) -> str:
    document: dict[str, Any] = {}
    if system is not None:
        document["system"] = _content(system)
    if has_messages:
        document["messages"] = [{"role": m["role"], "content": _content(m["parts"])} for m in messages]
    return json.dumps(document, ensure_ascii=False, default=str)


def _input_out(prompt: str, _flat: dict[str, Any]) -> list[dict[str, Any]] | None:
    converted = _structured(prompt)
    return None if converted is None else converted[0]


def _input_back(messages: list[dict[str, Any]], view: dict[str, Any]) -> str:
    return _prompt(messages, view.get(SYSTEM_INSTRUCTIONS), has_messages=True)


def system_instructions(flat: dict[str, Any]) -> list[dict[str, Any]] | None:
    """`gen_ai.system_instructions` of the flat prompt, when it converts exactly and has a system."""
    prompt = flat.get("prompt")
    converted = _structured(prompt) if isinstance(prompt, str) else None
    return None if converted is None else converted[1]


def _raw_prompt(prompt: str, _flat: dict[str, Any]) -> str | None:
    return prompt if _structured(prompt) is None else None


def _output_out(completion: str, flat: dict[str, Any]) -> list[dict[str, Any]]:
    finish = flat.get("stop_reason") or ("error" if flat.get("outcome") != "success" else "end_turn")
    return [
        {"role": "assistant", "parts": [{"type": "text", "content": completion}], "finish_reason": finish}
    ]


def _output_back(messages: list[dict[str, Any]], _view: dict[str, Any]) -> str:
    return "".join(part["content"] for message in messages for part in message["parts"])


INPUT: Final = Unit(_input_out, _input_back)
"""The flat prompt <-> `gen_ai.input.messages` (only when exact; see module docstring)."""
RAW_PROMPT: Final = Unit(_raw_prompt, lambda prompt, _view: prompt)
"""The flat prompt <-> `claude.prompt`, for a prompt that has no exact structured form."""
OUTPUT: Final = Unit(_output_out, _output_back)
"""The flat completion <-> `gen_ai.output.messages` (one assistant message of one text part)."""
