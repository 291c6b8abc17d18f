"""``StreamAssemblyError``: the accumulator could not assemble a stream, and says which chunk and why."""

from __future__ import annotations

from typing import Final

from litellm.exceptions import APIError


class StreamAssemblyError(APIError):
    """A chunk could not be folded, or the folded stream could not be built into a response.

    An ``APIError`` (status 500), as ``stream_chunk_builder`` has always raised, but with a message that names the
    chunk and the original error (also chained as ``__cause__``), instead of upstream's generic "Error building
    chunks": patch 0101 lets it through ``stream_chunk_builder``'s catch-all.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=500, message=f"stream_chunk_builder: {detail}", llm_provider="", model="")
        self.detail: Final = detail

    @classmethod
    def folding(cls, chunk_number: int, error: BaseException) -> StreamAssemblyError:
        assembly_error: Final = cls(
            f"chunk {chunk_number} of the stream could not be folded ({type(error).__name__}: {error}); "
            "the stream itself was served, only its assembled response (logging, usage, cost) is missing"
        )
        assembly_error.__cause__ = error
        return assembly_error

    @classmethod
    def building(cls, error: BaseException) -> StreamAssemblyError:
        assembly_error: Final = cls(
            f"the folded stream could not be built into a response ({type(error).__name__}: {error})"
        )
        assembly_error.__cause__ = error
        return assembly_error

    def __reduce__(self) -> tuple[type[StreamAssemblyError], tuple[str]]:
        return type(self), (self.detail,)
