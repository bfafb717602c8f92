"""Citation markers in a streamed answer: keep those that refer to a passage the model was
given, remove any other (and report it), even when a marker arrives split across deltas."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARKER = re.compile(r"\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]")
# A "[" that may still become a marker is held back at most this many characters.
_HOLD = 16
_OPEN = re.compile(r"\[[\d,\s]*$")


@dataclass
class CitationFilter:
    allowed: set[int]
    cited: list[int] = field(default_factory=list)  # valid passage numbers, first use order
    invalid: list[str] = field(default_factory=list)  # markers removed
    _buffer: str = ""

    def feed(self, delta: str) -> tuple[str, list[int]]:
        """Text safe to emit now and the passage numbers cited for the first time in it."""
        self._buffer += delta
        held = _OPEN.search(self._buffer)
        if held is not None and len(self._buffer) - held.start() <= _HOLD:
            ready, self._buffer = self._buffer[: held.start()], self._buffer[held.start():]
        else:
            ready, self._buffer = self._buffer, ""
        return self._clean(ready)

    def flush(self) -> tuple[str, list[int]]:
        ready, self._buffer = self._buffer, ""
        return self._clean(ready)

    def _clean(self, text: str) -> tuple[str, list[int]]:
        new: list[int] = []

        def replace(match: re.Match[str]) -> str:
            numbers = [int(x) for x in re.split(r"\s*,\s*", match.group(1).strip())]
            good = [n for n in numbers if n in self.allowed]
            if len(good) < len(numbers):
                self.invalid.append(match.group(0))
            for n in good:
                if n not in self.cited:
                    self.cited.append(n)
                    new.append(n)
            return "[" + ", ".join(str(n) for n in good) + "]" if good else ""

        return MARKER.sub(replace, text), new


def strip_markers(text: str) -> str:
    """An earlier answer without its markers (they numbered passages of another turn)."""
    return MARKER.sub("", text)
