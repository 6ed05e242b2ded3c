"""instrument(): every Messages API call of the process, or of one client, becomes one event.

`instrument()` with no argument observes every client of every SDK client class, those built
before and after, including the ones frameworks build privately; `instrument(client)` observes
one client and the clients derived from it with `copy()` / `with_options()`. Both are idempotent
and `uninstrument()` reverses them. Neither touches a client: the seams are on the SDK's base
classes (`_seams.py`) and the choice is kept here, so the SDK sees its clients as it built them.
"""

from __future__ import annotations

from typing import TypeVar, overload

from claude_logging import _seams, _targets

ClientT = TypeVar("ClientT")


@overload
def instrument(client: None = None) -> None: ...


@overload
def instrument(client: ClientT) -> ClientT: ...


def instrument(client: object = None) -> object:
    """Log every Messages API call of the process (no argument) or of `client` (returned as is).

    Covers `Anthropic`, `AsyncAnthropic` and every platform client (Bedrock, Vertex, Foundry, ...):
    `messages.create` (with and without `stream=True`), `messages.stream()`, `messages.parse()`,
    `messages.count_tokens()`, batches and `beta.messages.*`, raw and streaming responses
    included. Calling it twice changes nothing. Raises `TypeError` for an object that is not an
    SDK client, and `RuntimeError` when the `anthropic` SDK cannot be imported.
    """
    if not _seams.install():
        raise RuntimeError("instrument() needs the anthropic SDK, which could not be imported")
    if client is None:
        _targets.observe_everything(True)  # noqa: FBT003 - the flag's one setter
        return None
    if not _seams.is_sdk_client(client):
        raise TypeError(
            f"instrument() takes an anthropic client (Anthropic, AsyncAnthropic, ...), not {client!r}"
        )
    _seams.wrap_copies(type(client))
    _targets.choose(client)
    return client


@overload
def uninstrument(client: None = None) -> None: ...


@overload
def uninstrument(client: ClientT) -> ClientT: ...


def uninstrument(client: object = None) -> object:
    """Undo `instrument()` (no argument) or `instrument(client)`; returns what it was given.

    Calls inside a `log_call` scope are still logged: the scope asks for them.
    """
    if client is None:
        _targets.observe_everything(False)  # noqa: FBT003
        return None
    _targets.forget(client)
    return client
