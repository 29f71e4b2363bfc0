"""Cut an input file into JSON records in bounded memory, each with the line where it starts.

Imports must run in constant memory whatever the file size, and every problem must name a line. Two
shapes exist in the wild:

- **JSON Lines** (native, MT-Bench, Arena dumps): one record per line. Lines are read with a length
  limit, so a 1 GB line is skipped and reported instead of loaded.
- **One JSON array** (AlpacaEval ``annotations.json``, Arena battles): elements are decoded one at a
  time from a sliding buffer. The C decoder (``raw_decode``) handles the common case; only when an
  element straddles the buffer end or is malformed does a small structural scanner find where it
  ends, so a broken element is reported and the elements after it are still read.

Both sources yield :data:`RawRecord` tuples ``(line, value, text, problem)``: on success ``value``
is the decoded JSON value and ``text`` its source text (for a rejects file); otherwise ``problem``
says why, with the exact line, and ``text`` is the record's text when it could be cut out.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

MAX_RECORD_BYTES = 16 * 1024 * 1024
"""Largest record accepted; anything bigger is rejected without being held in memory."""

RECORD = "(record)"
"""Field name of problems about a whole record (syntax, encoding, size, top-level type)."""

FILE = "(file)"
"""Field name of problems about the file's structure (not an array, unterminated array, ...)."""

_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 16

# A lone UTF-16 surrogate escape (\ud800-\udfff); a proper pair is combined by the decoder.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# What the surrogateescape error handler makes of bytes that are not UTF-8.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_STRUCTURAL = re.compile(r'[\[\]{}",]')
_STRING_BODY = re.compile(r'[^"\\]*')
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class SourceProblem(NamedTuple):
    """Why a record could not be decoded, at the exact line of the fault."""

    line: int
    field: str
    message: str


RawRecord = tuple[int, Any, str | None, SourceProblem | None]
"""``(start line, decoded value, source text, problem)``; ``problem`` is None on success."""


class NonFiniteNumberError(ValueError):
    """Raised from ``parse_constant``: NaN and Infinity are not JSON."""


def _reject_constant(name: str) -> Any:
    raise NonFiniteNumberError(name)


STRICT_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
"""Rejects the bare ``NaN``/``Infinity`` tokens Python's json would otherwise accept (native)."""

LENIENT_DECODER = json.JSONDecoder()
"""Accepts ``NaN``/``Infinity``: other tools write them (AlpacaEval's NaN preference); the
importers check every number they use."""


class RecordSyntaxError(Exception):
    """A record's text is not valid JSON; ``line`` counts from the record's first line (1)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def decode_record(decoder: json.JSONDecoder, text: str) -> Any:
    """Decode one record's text, turning every way it can fail into :class:`RecordSyntaxError`."""
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} (column {exc.colno})"
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            message = f"invalid JSON: the record ends too early (truncated?): {exc.msg}"
        raise RecordSyntaxError(exc.lineno, message) from None
    except NonFiniteNumberError as exc:
        raise RecordSyntaxError(
            _line_of(text, str(exc)), f"{exc} is not valid JSON (numbers must be finite)"
        ) from None
    except RecursionError:
        raise RecordSyntaxError(1, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer with more digits than int() accepts
        reason = "a number has too many digits" if "digits" in str(exc) else str(exc)
        raise RecordSyntaxError(1, f"invalid JSON: {reason}") from None
    surrogate = surrogate_problem(text, value)
    if surrogate is not None:
        raise RecordSyntaxError(*surrogate)
    return value


def surrogate_problem(text: str, value: Any) -> tuple[int, str] | None:
    """A lone ``\\udXXX`` escape decodes to a string that cannot be stored as UTF-8.

    Cheap on the common path: the value is only re-encoded when the text has such an escape.
    Returns (line within the text, message) or None.
    """
    if "\\u" not in text:
        return None
    match = _SURROGATE_ESCAPE.search(text)
    if match is None or _encodable(value):
        return None
    line = text.count("\n", 0, match.start()) + 1
    return line, "contains an unpaired UTF-16 surrogate escape (\\ud800-\\udfff): not valid Unicode"


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle`` in ``text`` (1 if absent)."""
    at = text.find(needle)
    return 1 if at < 0 else text.count("\n", 0, at) + 1


def _encodable(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    return True


def _too_large(limit: int) -> str:
    return f"record is larger than {limit // (1024 * 1024)} MiB; not read"


def sniff_first_byte(file: BinaryIO) -> bytes:
    """The first byte that is not whitespace or a UTF-8 BOM (``b""`` if none); rewinds the file.

    Tells a JSON array (``[``) from JSON Lines (``{``) without reading the file: at most one chunk
    of leading whitespace is looked at per read.
    """
    file.seek(0)
    first = True
    try:
        while True:
            chunk = file.read(_CHUNK)
            if not chunk:
                return b""
            if first and chunk.startswith(_BOM):
                chunk = chunk[len(_BOM) :]
            first = False
            stripped = chunk.lstrip(b" \t\r\n")
            if stripped:
                return stripped[:1]
    finally:
        file.seek(0)


class JsonLinesSource:
    """JSON Lines, one record per line; blank lines are ignored, a leading BOM is fine.

    The happy path is a ``readline`` with a length limit, one strict UTF-8 decode and one C-level
    ``decode`` per line: no more work than a bare ``json.loads`` loop.
    """

    def __init__(
        self,
        file: BinaryIO,
        decoder: json.JSONDecoder = STRICT_DECODER,
        max_record_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        self._file = file
        self._decoder = decoder
        self._max = max_record_bytes

    def __iter__(self) -> Iterator[RawRecord]:
        readline = self._file.readline
        decode = self._decoder.decode
        limit = self._max + 1
        line = 0
        while True:
            raw = readline(limit)
            if not raw:
                return
            line += 1
            if len(raw) >= limit and raw[-1] != 0x0A:  # no newline within the limit
                self._skip_rest_of_line()
                yield line, None, None, SourceProblem(line, RECORD, _too_large(self._max))
                continue
            if line == 1 and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            if not raw or raw.isspace():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                message = f"invalid UTF-8 (byte {exc.start + 1} of the line)"
                yield line, None, None, SourceProblem(line, RECORD, message)
                continue
            try:
                value = decode(text)
            except (ValueError, RecursionError):
                try:
                    decode_record(self._decoder, text)
                except RecordSyntaxError as exc:
                    problem = SourceProblem(line, RECORD, exc.message)
                    yield line, None, text.rstrip("\r\n"), problem
                continue
            if "\\u" in text:
                surrogate = surrogate_problem(text, value)
                if surrogate is not None:
                    problem = SourceProblem(line, RECORD, surrogate[1])
                    yield line, None, text.rstrip("\r\n"), problem
                    continue
            yield line, value, text, None

    def _skip_rest_of_line(self) -> None:
        while True:
            part = self._file.readline(_CHUNK)
            if not part or part[-1] == 0x0A:
                return


class _NeedMoreError(Exception):
    """The buffer ends before the element does."""


class JsonArraySource:
    """The elements of one top-level JSON array, each with the line where it starts.

    The buffer holds about the current element plus one read chunk: consumed text is dropped as
    the reader advances, and an element over the size limit is scanned past without being kept.
    """

    def __init__(
        self,
        file: BinaryIO,
        decoder: json.JSONDecoder = LENIENT_DECODER,
        max_record_bytes: int = MAX_RECORD_BYTES,
        chunk_size: int = _CHUNK,
    ) -> None:
        self._file = file
        self._decoder = decoder
        self._max = max_record_bytes
        self._chunk = chunk_size
        self._utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._buf = ""
        self._eof = False
        self._first_read = True
        self._bad_bytes = False  # some byte so far was not UTF-8
        self._line = 1  # line number at index ``_line_pos`` of the buffer
        self._line_pos = 0
        self._ends_with_newline = False

    # -- buffer ---------------------------------------------------------------------------

    def _fill(self, at_least: int = 0) -> bool:
        """Append the next chunk (``at_least`` bytes if larger); False at end of file."""
        if self._eof:
            return False
        data = self._file.read(max(self._chunk, at_least))
        if not data:
            self._eof = True
            text = self._utf8.decode(b"", final=True)
        else:
            if self._first_read and data.startswith(_BOM):
                data = data[len(_BOM) :]
            self._first_read = False
            text = self._utf8.decode(data)
        if text:
            if not self._bad_bytes and _ESCAPED_BYTE.search(text):
                self._bad_bytes = True
            self._buf += text
            self._ends_with_newline = text[-1] == "\n"
        return bool(data) or bool(text)

    def _line_at(self, pos: int) -> int:
        """Line number of buffer index ``pos`` (positions only ever move forward)."""
        if pos > self._line_pos:
            self._line += self._buf.count("\n", self._line_pos, pos)
            self._line_pos = pos
        return self._line

    def _eof_line(self) -> int:
        """The file's last line (a final newline does not start another one)."""
        line = self._line_at(len(self._buf))
        return line - 1 if self._ends_with_newline and line > 1 else line

    def _drop_before(self, pos: int) -> int:
        """Forget the buffer before ``pos``; returns ``pos``'s new index (0)."""
        self._line_at(pos)
        self._buf = self._buf[pos:]
        self._line_pos = 0
        return 0

    def _skip_whitespace(self, pos: int) -> int:
        """Index of the next non-whitespace character, reading on as needed (len(buf) at EOF)."""
        while True:
            pos = _WHITESPACE.match(self._buf, pos).end()  # type: ignore[union-attr]
            if pos < len(self._buf):
                return pos
            pos = self._drop_before(pos)
            if not self._fill():
                return pos

    # -- elements ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[RawRecord]:
        pos = self._skip_whitespace(0)
        if pos >= len(self._buf):
            yield 1, None, None, SourceProblem(1, FILE, "the file is empty; expected a JSON array")
            return
        if self._buf[pos] != "[":
            line = self._line_at(pos)
            found = "an object" if self._buf[pos] == "{" else repr(self._buf[pos])
            message = f"expected a JSON array ('[') at the top level, found {found}"
            yield line, None, None, SourceProblem(line, FILE, message)
            return
        pos += 1
        after_comma = False
        while True:
            pos = self._skip_whitespace(pos)
            if pos >= self._chunk:
                pos = self._drop_before(pos)
            if pos >= len(self._buf):
                line = self._eof_line()
                message = "the file ends before the array is closed with ']' (truncated?)"
                yield line, None, None, SourceProblem(line, FILE, message)
                return
            if self._buf[pos] == "]" and not after_comma:
                yield from self._after_array(pos + 1)
                return
            record, pos, closed = self._element(pos)
            yield record
            if closed is None:  # the file ended before the element's terminator
                if record[3] is None:  # ... but after a complete element
                    line = self._eof_line()
                    message = "the file ends before the array is closed with ']' (truncated?)"
                    yield line, None, None, SourceProblem(line, FILE, message)
                return
            if closed:
                yield from self._after_array(pos)
                return
            after_comma = True

    def _element(self, start: int) -> tuple[RawRecord, int, bool | None]:
        """Decode the element at ``start``; returns the record, the index after its terminator
        and whether that terminator closed the array (None when the file ended first)."""
        line = self._line_at(start)
        buf = self._buf
        if buf[start] not in ",]":
            try:
                value, end = self._decoder.raw_decode(buf, start)
            except (ValueError, RecursionError):
                pass  # malformed, or cut off by the buffer end: the scanner tells which
            else:
                after = _WHITESPACE.match(buf, end).end()  # type: ignore[union-attr]
                if after < len(buf) and buf[after] in ",]":
                    text = buf[start:end]
                    closed = buf[after] == "]"
                    problem = self._bad_utf8(line, text)
                    if problem is not None:  # text that is not UTF-8 cannot be written back
                        return (line, None, None, problem), after + 1, closed
                    if "\\u" in text:
                        surrogate = surrogate_problem(text, value)
                        if surrogate is not None:
                            problem = SourceProblem(line + surrogate[0] - 1, RECORD, surrogate[1])
                            return (line, None, text, problem), after + 1, closed
                    return (line, value, text, None), after + 1, closed
        return self._scanned_element(line, start)

    def _scanned_element(self, line: int, start: int) -> tuple[RawRecord, int, bool | None]:
        """Find the element's end with a structural scanner, then decode exactly that text.

        The scanner tracks only string state and bracket depth, so it resumes after each read
        and needs no recursion however deep the nesting.
        """
        depth = 0
        in_string = False
        pos = start
        oversized = False
        while True:
            buf = self._buf
            n = len(buf)
            try:
                while True:
                    if in_string:
                        pos = _STRING_BODY.match(buf, pos).end()  # type: ignore[union-attr]
                        if pos >= n:
                            raise _NeedMoreError
                        if buf[pos] == '"':
                            in_string = False
                            pos += 1
                        elif pos + 1 < n:
                            pos += 2  # a backslash and the character it escapes
                        else:
                            raise _NeedMoreError
                        continue
                    match = _STRUCTURAL.search(buf, pos)
                    if match is None:
                        pos = n
                        raise _NeedMoreError
                    pos = match.end()
                    char = buf[pos - 1]
                    if char == '"':
                        in_string = True
                    elif char in "[{":
                        depth += 1
                    elif depth:
                        if char in "]}":
                            depth -= 1
                    elif char in ",]":
                        break  # the element's terminator, at depth 0
                    # a stray '}' at depth 0 stays in the element's text and fails to decode
            except _NeedMoreError:
                if pos - start > self._max:
                    oversized = True
                if oversized:  # stop keeping the element: drop what has been scanned
                    pos = self._drop_before(pos)
                    start = 0
                if not self._fill(at_least=len(self._buf)):
                    return self._element_at_eof(line, start, oversized), len(self._buf), None
                continue
            end = pos - 1
            closed = buf[end] == "]"
            if oversized or end - start > self._max:
                too_large = SourceProblem(line, RECORD, _too_large(self._max))
                return (line, None, None, too_large), pos, closed
            text = buf[start:end].strip(" \t\r\n")
            if not text:
                message = "missing value (an extra ',' in the array?)"
                return (line, None, None, SourceProblem(line, RECORD, message)), pos, closed
            problem = self._bad_utf8(line, text)
            if problem is not None:  # text that is not UTF-8 cannot be written back
                return (line, None, None, problem), pos, closed
            try:
                value = decode_record(self._decoder, text)
            except RecordSyntaxError as exc:
                problem = SourceProblem(line + exc.line - 1, RECORD, exc.message)
                return (line, None, text, problem), pos, closed
            return (line, value, text, None), pos, closed

    def _element_at_eof(self, line: int, start: int, oversized: bool) -> RawRecord:
        """The file ended before the element's terminator: a complete element is still read."""
        if oversized:
            return line, None, None, SourceProblem(line, RECORD, _too_large(self._max))
        text = self._buf[start:].strip(" \t\r\n")
        try:
            value = (
                decode_record(self._decoder, text) if self._bad_utf8(line, text) is None else None
            )
        except RecordSyntaxError:
            value = None
        if value is None:
            message = "the file ends inside this record (truncated?)"
            return line, None, None, SourceProblem(line, RECORD, message)
        return line, value, text, None

    def _bad_utf8(self, line: int, text: str) -> SourceProblem | None:
        """Bytes that were not UTF-8 (decoded as surrogate escapes), reported at their line."""
        if not self._bad_bytes:
            return None
        match = _ESCAPED_BYTE.search(text)
        if match is None:
            return None
        return SourceProblem(line + text.count("\n", 0, match.start()), RECORD, "invalid UTF-8")

    def _after_array(self, pos: int) -> Iterator[RawRecord]:
        """Only whitespace may follow the closing bracket."""
        pos = self._skip_whitespace(pos)
        if pos < len(self._buf):
            line = self._line_at(pos)
            message = "unexpected data after the end of the array"
            yield line, None, None, SourceProblem(line, FILE, message)
