"""Response-body wrappers: the seam where a stream's end, failure, close or loss is observed.

`wrap()` replaces `httpx2.Response.stream` with a body of the same kind (sync, async or both, so
httpx2's own checks still hold) that carries our `stream_observer` and reports to it. Imported on
first use, so importing the library does not import the HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import httpx2

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


class StreamObserver(Protocol):
    """What a body reports to (`_streams.StreamObserver`): its bytes, how reading ended, its loss."""

    def body_chunk(self, chunk: bytes, /) -> bool:
        """Bytes of the body, as read; False when no more are wanted (a `Stream` parses them)."""

    def body_end(self, how: str, error: BaseException | None = None, /) -> None:
        """The body was read to its end (`read`), failed with `error`, or was `closed`."""

    def body_gone(self) -> None:
        """The body was collected."""


class _SyncBody(httpx2.SyncByteStream):
    """A sync response body that reports to its `stream_observer` how reading it ended."""

    def __init__(self, body: httpx2.SyncByteStream, observer: StreamObserver) -> None:
        self._body = body
        self.stream_observer = observer

    @property
    def elapsed(self) -> Any:
        """The wrapped body's `elapsed`, which `httpx2.Response.elapsed` reads."""
        return getattr(self._body, "elapsed", None)

    def __iter__(self) -> Iterator[bytes]:
        observer = self.stream_observer
        chunks = iter(self._body)
        try:
            for chunk in chunks:
                wanted = observer.body_chunk(chunk)
                yield chunk
                if not wanted:
                    yield from chunks  # passed through without a call per chunk
                    break
        except GeneratorExit:
            raise
        except BaseException as exc:
            observer.body_end("failed", exc)
            raise
        observer.body_end("read")

    def close(self) -> None:
        """Close the wrapped body; an early close abandons the stream."""
        try:
            self._body.close()
        finally:
            self.stream_observer.body_end("closed")

    def __del__(self) -> None:
        try:
            self.stream_observer.body_gone()
        except Exception:
            pass


class _AsyncBody(httpx2.AsyncByteStream):
    """An async response body that reports to its `stream_observer` how reading it ended."""

    def __init__(self, body: httpx2.AsyncByteStream, observer: StreamObserver) -> None:
        self._async_body = body
        self.stream_observer = observer

    @property
    def elapsed(self) -> Any:
        """The wrapped body's `elapsed`, which `httpx2.Response.elapsed` reads."""
        return getattr(self._async_body, "elapsed", None)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        observer = self.stream_observer
        chunks = self._async_body.__aiter__()
        wanted = True
        try:
            async for chunk in chunks:
                if wanted:
                    wanted = observer.body_chunk(chunk)
                yield chunk
        except GeneratorExit:
            raise
        except BaseException as exc:
            observer.body_end("failed", exc)
            raise
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        observer.body_end("read")

    async def aclose(self) -> None:
        """Close the wrapped body; an early close abandons the stream."""
        try:
            await self._async_body.aclose()
        finally:
            self.stream_observer.body_end("closed")

    def __del__(self) -> None:
        try:
            self.stream_observer.body_gone()
        except Exception:
            pass


class _Body(_SyncBody, _AsyncBody):
    """A body that is sync and async at once, as `httpx2.ByteStream` is."""

    def __init__(self, body: Any, observer: StreamObserver) -> None:
        _SyncBody.__init__(self, body, observer)
        _AsyncBody.__init__(self, body, observer)


def wrap(body: Any, observer: StreamObserver) -> httpx2.SyncByteStream | httpx2.AsyncByteStream:
    """A wrapper of the same kind as `body` that reports to `observer`."""
    if not isinstance(body, httpx2.SyncByteStream):
        return _AsyncBody(body, observer)
    if isinstance(body, httpx2.AsyncByteStream):
        return _Body(body, observer)
    return _SyncBody(body, observer)
