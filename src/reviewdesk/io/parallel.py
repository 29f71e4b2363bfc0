"""Reading an input file in a second process, so the importing process only stores.

Decoding and validating records is about half of an import's time and needs nothing from the
project, so on a machine with two or more cores the import reads in a child process while it
writes the previous batch to the database. The child runs :func:`~reviewdesk.io.prepared.
prepared_chunks` over the whole file, in order (so within-file duplicate ids and line numbers
work as in process), and sends each :class:`~reviewdesk.io.prepared.Chunk` pickled.

Why it is built this way:

- ``spawn``, never ``fork``: the GUI imports from a worker thread, and forking a process with
  threads (Qt's, SQLite's) can deadlock the child. A spawned child imports only ``reviewdesk.io``
  and ``reviewdesk.domain`` (no SQLAlchemy, numpy or Qt), so it starts in about 0.1 s.
  Frozen builds must call ``multiprocessing.freeze_support()`` first thing (installer/launch_*.py).
- Pickled chunks travel through ``IN_FLIGHT`` shared-memory slots that the parent creates and
  removes; a pipe carries only "chunk in slot n" (and, from the parent, "slot n is free"). Through
  a pipe alone a 3 MB chunk takes dozens of write/read turns of the two processes and three
  copies: a tenth of the storing process's time. A chunk larger than a slot, or a system without
  shared memory, uses the pipe itself.
- The child is at most ``IN_FLIGHT`` chunks ahead (it waits for a free slot), so memory is
  bounded by the batch size whatever the file size, and a slow batch on either side does not
  stall the other.
- The parent's copies of the child's pipe ends are closed after the start, so a child that dies
  is seen at once (end of file on the pipe) and reported as a ``UserError`` naming the file. A
  parent that dies (SIGKILL) leaves the child with closed pipes: its next send or wait fails and
  it exits (multiprocessing's resource tracker then removes the slots). The child ignores
  SIGINT: Ctrl+C is the parent's to handle (it stops the child).
- :meth:`ChildChunks.close` always stops and reaps the child and removes the slots: no zombie,
  no orphan, nothing left in ``/dev/shm``.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from types import TracebackType
from typing import Any

from reviewdesk.domain.errors import UserError
from reviewdesk.io.formats import open_reader
from reviewdesk.io.prepared import BATCH_RECORDS, Chunk, prepared_chunks
from reviewdesk.io.reader import Format, ReadOptions

#: Chunks the child may have sent and the parent not yet taken (shared-memory slots).
IN_FLIGHT = 4
#: Bytes of one slot; a larger pickled chunk goes through the pipe instead.
SLOT_BYTES = 8 * 1024 * 1024
#: Seconds between checks of the cancel flag while waiting for the child.
POLL_SECONDS = 0.1
#: Seconds a child gets to exit on its own (after its last chunk) or after SIGTERM.
JOIN_SECONDS = 5.0
#: Chunks between two collections of the child's cyclic garbage.
_GC_EVERY = 64

# Message tags, child to parent (the first item of every pickled message).
_CHUNK, _ERROR, _CRASH = 0, 1, 2
#: First byte of a pipe message that says "the next message is in slot n, m bytes long"; a
#: pickled message starts with the pickle protocol byte (0x80) instead.
_IN_SLOT = b"S"


class ReaderProcessError(UserError):
    """The reader process ended without finishing the file (killed, out of memory, ...)."""


class ChildChunks:
    """The chunks of one file, read by a child process; a context manager and an iterable.

    ``check`` is called while waiting for the child (the import's cancel check: it raises to
    stop). Leaving the ``with`` block, normally or by an exception, stops and reaps the child.
    """

    def __init__(
        self,
        path: Path,
        fmt: Format,
        options: ReadOptions,
        *,
        skip_bad: bool,
        low_margin: float,
        check: Callable[[], None] | None = None,
        batch_records: int = BATCH_RECORDS,
    ) -> None:
        self.path = path
        self._check = check
        self._done = self._closed = False
        self._pid: int | None = None
        self._slots = _create_slots()
        ctx = multiprocessing.get_context("spawn")
        self._conn, child_conn = ctx.Pipe(duplex=False)  # chunks, child to parent
        child_free, self._free = ctx.Pipe(duplex=False)  # slots read, parent to child
        self._process = ctx.Process(
            target=_child_main,
            args=(
                child_conn,
                child_free,
                [slot.name for slot in self._slots],
                path,
                fmt,
                options,
                skip_bad,
                low_margin,
                batch_records,
            ),
            name=f"reviewdesk-reader {path.name}",
            daemon=True,  # if the parent exits without closing us, multiprocessing stops us
        )
        try:
            with starting_child():
                self._process.start()
            self._pid = self._process.pid
        except BaseException:
            self.close()
            raise
        finally:
            # Only the child may hold its ends: so each side sees the other's exit at once.
            child_conn.close()
            child_free.close()

    @property
    def pid(self) -> int | None:
        """The child's process id (None if it could not be started)."""
        return self._pid

    def __iter__(self) -> Iterator[Chunk]:
        while not self._done:
            chunk = self._receive()
            self._done = chunk.last
            yield chunk

    def _receive(self) -> Chunk:
        conn = self._conn
        try:
            while not conn.poll(POLL_SECONDS):
                if self._check is not None:
                    self._check()
            message = conn.recv_bytes()
        except (EOFError, OSError):
            raise self._died() from None
        if message[:1] == _IN_SLOT:
            buf = self._slots[message[1]].buf
            assert buf is not None  # None only once closed
            view = buf[: int.from_bytes(message[2:], "little")]
            try:
                tag, payload = pickle.loads(view)
            finally:
                view.release()
            with contextlib.suppress(OSError):  # a child that has gone is seen at the next read
                self._free.send_bytes(message[1:2])
        else:
            tag, payload = pickle.loads(message)
        if tag == _CHUNK:
            chunk: Chunk = payload
            return chunk
        if tag == _ERROR:
            raise payload
        raise RuntimeError(f"the reader process of {self.path} failed:\n{payload}")

    def _died(self) -> ReaderProcessError:
        self._process.join(JOIN_SECONDS)
        code = self._process.exitcode
        how = f"exit code {code}"
        if code is None:
            how = "it stopped answering"
        elif code < 0:
            with contextlib.suppress(ValueError):
                how = f"killed by {signal.Signals(-code).name}"
        return ReaderProcessError(
            f"{self.path}: the process reading the file ended unexpectedly ({how}); "
            "nothing was imported"
        )

    def close(self) -> None:
        """Stop the child if it still runs, reap it, remove the slots; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        process = self._process
        self._conn.close()  # a child waiting to send or for a free slot sees EOF and exits
        self._free.close()
        if process.pid is not None:
            if self._done:  # it sent everything: let it exit on its own
                process.join(JOIN_SECONDS)
            stop_child(process)
        for slot in self._slots:
            with contextlib.suppress(OSError):
                slot.close()
                slot.unlink()
        self._slots = []

    def __enter__(self) -> ChildChunks:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _create_slots(slot_bytes: int = SLOT_BYTES) -> list[SharedMemory]:
    """The shared-memory slots, or none where there is no room for them (chunks then go through
    the pipe): a full ``/dev/shm`` would kill the child (SIGBUS) when it writes a slot."""
    if sys.platform.startswith("linux"):
        try:
            shm = os.statvfs("/dev/shm")
        except OSError:
            return []
        if shm.f_bavail * shm.f_frsize < 4 * IN_FLIGHT * slot_bytes:
            return []
    slots: list[SharedMemory] = []
    try:
        for _ in range(IN_FLIGHT):
            slots.append(SharedMemory(create=True, size=slot_bytes))
    except OSError:
        for slot in slots:
            slot.close()
            slot.unlink()
        return []
    return slots


#: Extra environment for a numeric helper child (``starting_child(ONE_BLAS_THREAD)``): one BLAS
#: thread, so the helper and its parent each use one core instead of two BLAS pools competing.
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def helper_child_body(conn: Connection, error_tag: int) -> Iterator[None]:
    """The body of a helper child: Ctrl+C is left to the parent, a closed pipe (the parent has
    what it needs, or has gone) ends it quietly, any failure goes to the parent as
    ``(error_tag, traceback text)``; the pipe is closed either way."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    except (BrokenPipeError, EOFError, OSError):
        sys.exit(0)
    except BaseException:  # noqa: BLE001 - every failure goes to the parent
        with contextlib.suppress(OSError):
            conn.send_bytes(pickle.dumps((error_tag, traceback.format_exc())))
        sys.exit(1)
    finally:
        conn.close()


def stop_child(process: Any) -> None:
    """Stop a started ``multiprocessing`` child (SIGTERM, then SIGKILL), reap it, release it."""
    if process.exitcode is None:
        process.terminate()
        process.join(JOIN_SECONDS)
    if process.exitcode is None:  # pragma: no cover - our children do not block SIGTERM
        process.kill()
        process.join()
    process.close()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


_STARTING = threading.Lock()


@contextlib.contextmanager
def starting_child(env: Mapping[str, str] | None = None) -> Iterator[None]:
    """Start a ``spawn`` child inside this block: without the parent's main module, with ``env``.

    ``spawn`` normally imports the parent's ``__main__`` in the child, as ``__mp_main__``, so that
    objects defined there unpickle. The child needs nothing from it (its target and arguments
    are reviewdesk's), and importing it would load Qt into the child of the ``reviewdesk-gui``
    script, and run a caller's unguarded script again (which then fails, starting its own child
    during bootstrap). ``spawn`` reads the main module's name and path from ``sys.modules`` only
    while it starts the process, so a bare stand-in is put there for that moment. ``env`` is
    added to ``os.environ`` for the same moment (the child inherits it; this process has read
    it long before). A lock keeps two threads starting children from restoring each other's
    stand-ins.
    """
    with _STARTING:
        main = sys.modules.get("__main__")
        saved = {key: os.environ.get(key) for key in env or {}}
        sys.modules["__main__"] = types.ModuleType("__main__")
        os.environ.update(env or {})
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _child_main(
    conn: Connection,
    free: Connection,
    slot_names: Sequence[str],
    path: Path,
    fmt: Format,
    options: ReadOptions,
    skip_bad: bool,
    low_margin: float,
    batch_records: int,
) -> None:
    """The child: read the file, send every chunk; an error is sent, not printed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Reading makes no reference cycles, so the cyclic collector would only walk the batch in
    # hand again and again (a tenth of the child's time); a collection every few batches still
    # bounds what an unforeseen cycle could hold.
    gc.disable()
    outbox = _Outbox(conn, free, slot_names)
    try:
        with open_reader(path, fmt, options) as reader:
            chunks = prepared_chunks(
                reader, skip_bad=skip_bad, low_margin=low_margin, batch_records=batch_records
            )
            for n, chunk in enumerate(chunks, 1):
                outbox.send((_CHUNK, chunk))
                if n % _GC_EVERY == 0:
                    gc.collect()
    except _ParentGoneError:
        sys.exit(1)  # the parent has gone or stopped reading: nothing left to do
    except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent
        with contextlib.suppress(_ParentGoneError):
            outbox.send(_error_message(exc))
        sys.exit(1)
    finally:
        outbox.close()


class _ParentGoneError(Exception):
    """The pipes to the parent are closed (it exited, was killed, or stopped reading)."""


class _Outbox:
    """The child's end: pickles each message into a free slot (waiting for one) or the pipe."""

    def __init__(self, conn: Connection, free: Connection, slot_names: Sequence[str]) -> None:
        self._conn = conn
        self._free_conn = free
        self._slots: list[SharedMemory] = []
        try:
            for name in slot_names:
                self._slots.append(SharedMemory(name=name))
        except OSError:  # the slots cannot be opened here: everything goes through the pipe
            for slot in self._slots:
                slot.close()
            self._slots = []
        self._free = list(range(len(self._slots)))
        self._capacity = min((slot.size for slot in self._slots), default=0)

    def send(self, message: tuple[int, Any]) -> None:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        try:
            if len(data) <= self._capacity:
                if not self._free:  # all in flight: wait until the parent has read one
                    self._free.append(self._free_conn.recv_bytes()[0])
                slot = self._free.pop()
                buf = self._slots[slot].buf
                assert buf is not None  # None only once closed
                buf[: len(data)] = data
                self._conn.send_bytes(_IN_SLOT + bytes([slot]) + len(data).to_bytes(8, "little"))
            else:
                self._conn.send_bytes(data)
        except (EOFError, OSError) as exc:
            raise _ParentGoneError from exc

    def close(self) -> None:
        for slot in self._slots:
            slot.close()
        self._conn.close()
        self._free_conn.close()


def _error_message(exc: BaseException) -> tuple[int, Any]:
    """The exception itself when it survives pickling (a ``UserError`` the parent re-raises as
    it would have in process); else its traceback, reported as an internal error."""
    try:
        if isinstance(exc, Exception):
            return _ERROR, pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - an exception that cannot travel: send its text
        pass
    return _CRASH, "".join(traceback.format_exception(exc))
