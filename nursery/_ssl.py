"""TLS over any byte stream: ``SSLStream`` and ``SSLListener``.

How it works. The standard library's ``ssl.SSLObject`` speaks TLS into two in-memory
buffers (``ssl.MemoryBIO``): it appends the bytes it wants to put on the wire to
``_outgoing`` and takes the bytes the peer sent from ``_incoming``. Each of its four
operations (``do_handshake``, ``read``, ``write``, ``unwrap``) either completes or
raises ``SSLWantReadError``, meaning "feed me more bytes from the peer and call me
again *with the same arguments*". Any of them may also leave bytes in ``_outgoing``
that must reach the peer before the protocol can move on, whether it completed or not.

``_drive`` turns such an operation into an async one: call it, ship what it wrote,
fetch what it wants, call it again, until it completes. One task may be sending
while another is receiving, and TLS 1.2 renegotiation lets a ``read`` need to send
and a ``write`` need to receive, so two tasks can need the transport's same
direction at once. Two inner locks keep that an internal affair:

- ``_transport_send_lock`` (strictly FIFO): the bytes taken from ``_outgoing`` must go
  on the wire in the order they were taken, so a task that took some queues for the
  lock *before* it yields anywhere else.
- ``_transport_receive_lock``: a task that waited for it while another task was
  receiving does not receive in turn (the peer may have nothing more to say: that
  would hang); it retries the operation first, since the other task's bytes may be
  all it needed. ``_receives_done`` counts the receives to tell.

Between two awaits the SSLObject is used by one task only, so each pass of the loop
is: call the operation (no await), then do exactly one thing that can block, then
look again. Doing one thing only matters because what was true before a yield (say,
"I need to receive") may no longer be true after it.

Cancellation while sending (a ``send_all`` or a handshake step) leaves the TLS session
in an unknown state, since part of a record may be on the wire, so the stream is then
broken. Cancellation while waiting for the peer loses nothing, handshake or not: bytes
are only ever taken from the transport in one step with putting them into
``_incoming``, and the SSLObject resumes the operation when called again.
"""

from __future__ import annotations

import enum
import operator
import ssl
from abc import ABCMeta
from collections.abc import Callable
from typing import Any, Generic, TypeVar, final

from ._conflict import ConflictDetector
from ._core._cancel_scope import CancelScope
from ._core._exceptions import (
    BrokenResourceError,
    BusyResourceError,
    Cancelled,
    ClosedResourceError,
)
from ._core._traps import (
    CHECKPOINT_TRAP,
    SHIELDED_CHECKPOINT_TRAP,
    checkpoint_if_cancelled,
)
from ._core._util import Final
from ._sync import Event, Lock, StrictFIFOLock
from .abc import AsyncResource, Listener, Stream

_T = TypeVar("_T")
_StreamT = TypeVar("_StreamT", bound=Stream)

# How many plaintext bytes a receive_some() without max_bytes asks the SSLObject for,
# before the transport has shown how big its chunks are (then the largest chunk seen
# is used). Decrypted data is a little smaller than the encrypted data it came in, so
# asking for the size of a transport chunk lets one call return a whole chunk.
_INITIAL_RECEIVE_SIZE = 16384

# send_all() hands the SSLObject this much plaintext at a time, so that a huge send
# does not hold its whole encrypted copy in memory at once.
_WRITE_CHUNK = 256 * 1024


class NeedHandshakeError(Exception):
    """Raised by the ``SSLStream`` methods that describe the TLS session
    (``getpeercert()``, ``cipher()``, ``selected_alpn_protocol()``, ...) when they are
    called before the handshake has completed, when they could only return ``None``.
    """


class _State(enum.Enum):
    OK = enum.auto()
    BROKEN = enum.auto()
    CLOSED = enum.auto()


class _FinalABCMeta(Final, ABCMeta):
    """Final classes that implement an ``abc`` interface."""


def _is_ragged_eof(exc: BaseException | None) -> bool:
    """Whether this SSL error means "the transport ended without a close_notify"."""
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLSyscallError):
        return True
    # Some OpenSSL and Python combinations report it as a plain SSLError.
    return isinstance(exc, ssl.SSLError) and exc.reason == "UNEXPECTED_EOF_WHILE_READING"


async def _take(lock: Lock | StrictFIFOLock) -> None:
    """Acquire ``lock``, yielding only when it is held by another task. A free lock
    has no queue, so taking it at once keeps the FIFO order; and the transport call
    made under it is the checkpoint, so a second trip through the scheduler on every
    record would be pure cost."""
    if lock.locked():
        await lock.acquire()
    else:
        lock.acquire_nowait()


async def _aclose_forcefully(resource: AsyncResource) -> None:
    """Close ``resource`` at once: in a cancelled scope, its ``aclose`` skips any
    goodbye with the peer and just releases what it holds."""
    with CancelScope() as scope:
        scope.cancel()
        await resource.aclose()


@final
class SSLStream(Stream, Generic[_StreamT], metaclass=_FinalABCMeta):
    """An encrypted stream: TLS over ``transport_stream`` (any ``abc.Stream``).

    ``send_all`` encrypts and sends on the transport; ``receive_some`` receives from it
    and decrypts. The handshake happens on the first ``send_all`` / ``receive_some``
    (or ``aclose``), or when ``do_handshake()`` is called.

    ``ssl_context`` is an ``ssl.SSLContext``, usually from
    ``ssl.create_default_context()``: for a client that one checks the server's
    certificate and host name, which makes ``server_hostname`` required (it is also
    sent for SNI). ``server_side=True`` makes this end the server.

    ``https_compatible``: by default a peer must end the TLS session with a
    ``close_notify`` message, and a transport that ends without one is a
    ``BrokenResourceError`` (it may be an attacker cutting the connection). HTTPS and
    some other protocols skip ``close_notify``; with ``https_compatible=True`` the
    stream neither sends it on ``aclose`` nor expects it: a bare end of the transport
    is a clean end of the stream.

    The session information methods and attributes of the underlying
    ``ssl.SSLObject`` are available here: ``getpeercert``, ``cipher``, ``version``,
    ``selected_alpn_protocol``, ... Those that describe the session raise
    ``NeedHandshakeError`` before the handshake is done.

    Cancelling a ``send_all`` (or a handshake while it sends) part way leaves the
    stream broken: later operations raise ``BrokenResourceError``; close it. Cancelled
    while waiting for the peer, an operation loses nothing.
    """

    __slots__ = (
        "_handshake_attempted",
        "_handshake_done",
        "_handshake_finished",
        "_handshake_running",
        "_held_output",
        "_https_compatible",
        "_incoming",
        "_outgoing",
        "_peer_ended_without_notify",
        "_receive_conflict",
        "_receive_size_hint",
        "_receives_done",
        "_send_conflict",
        "_ssl_object",
        "_state",
        "_transport_receive_lock",
        "_transport_send_lock",
        "transport_stream",
    )

    def __init__(
        self,
        transport_stream: _StreamT,
        ssl_context: ssl.SSLContext,
        *,
        server_hostname: str | bytes | None = None,
        server_side: bool = False,
        https_compatible: bool = False,
    ) -> None:
        if not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(
                f"SSLStream() expected an ssl.SSLContext for ssl_context, got "
                f"{type(ssl_context).__name__}; use ssl.create_default_context()"
            )
        if server_hostname is not None and not isinstance(server_hostname, str | bytes):
            raise TypeError(
                f"SSLStream() expected a str, bytes or None for server_hostname, got "
                f"{type(server_hostname).__name__}"
            )
        if not server_side and server_hostname is None and ssl_context.check_hostname:
            # ssl.SSLSocket refuses this too; an SSLObject would accept any trusted
            # certificate, for any host.
            raise ValueError(
                "SSLStream() needs server_hostname for a client whose ssl_context has "
                "check_hostname set (the default): the name to check the certificate for"
            )
        self.transport_stream: _StreamT = transport_stream
        self._https_compatible = bool(https_compatible)
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        # wrap_bio checks the arguments against the context (say, a missing host name
        # when check_hostname is on) and raises ValueError before anything is open.
        self._ssl_object = ssl_context.wrap_bio(
            self._incoming,
            self._outgoing,
            server_side=bool(server_side),
            server_hostname=server_hostname,
        )
        self._state = _State.OK
        self._handshake_attempted = False  # some task began it (it may have given up)
        self._handshake_running = False  # a task is doing it now
        self._handshake_done = False  # completed successfully
        self._handshake_finished = Event()  # set when the running attempt ends, however
        # Session tickets a TLS 1.3 server held back at the end of its handshake.
        self._held_output = b""
        self._peer_ended_without_notify = False
        self._transport_send_lock = StrictFIFOLock()
        self._transport_receive_lock = Lock()
        self._receives_done = 0
        self._receive_size_hint = _INITIAL_RECEIVE_SIZE
        self._send_conflict = ConflictDetector("another task is already sending on this SSLStream")
        self._receive_conflict = ConflictDetector(
            "another task is already receiving on this SSLStream"
        )

    def __repr__(self) -> str:
        side = "server" if self._ssl_object.server_side else "client"
        return f"<nursery.SSLStream ({side}, {self._state.name.lower()}) at {id(self):#x}>"

    # -- the engine ------------------------------------------------------------------

    def _check_status(self) -> None:
        if self._state is _State.CLOSED:
            raise ClosedResourceError("this SSLStream was closed")
        if self._state is _State.BROKEN:
            raise BrokenResourceError(
                "this SSLStream is broken: an earlier operation on it failed or was "
                "cancelled part way"
            )

    async def _drive(
        self,
        operation: Callable[..., _T],
        *args: object,
        want_read_is_done: bool = False,
        is_handshake: bool = False,
    ) -> _T | None:
        """Run an SSLObject operation to completion, moving bytes between the memory
        buffers and the transport. A checkpoint.

        ``want_read_is_done``: stop once the operation's output is sent, even when it
        would like to hear from the peer (aclose sends close_notify and leaves).
        """
        await checkpoint_if_cancelled()
        yielded = False
        while True:
            result: _T | None = None
            needs_input = False
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                needs_input = not want_read_is_done
            except ssl.SSLError as exc:  # includes SSLCertVerificationError
                self._state = _State.BROKEN
                if not yielded:
                    await SHIELDED_CHECKPOINT_TRAP
                raise BrokenResourceError(f"TLS failed: {exc}") from exc
            output = self._outgoing.read()
            if is_handshake and not needs_input and self._holds_session_tickets():
                # A TLS 1.3 server's handshake ends by writing session tickets the
                # client did not ask for yet. Sent now, they could block this handshake
                # on a peer that only wants to send; they go out with our next bytes.
                self._held_output = output
                output = b""
            if output:
                await self._send_to_transport(output)
                yielded = True
            elif needs_input:
                await self._receive_from_transport()
                yielded = True
            if not needs_input:
                break
        if not yielded:
            await SHIELDED_CHECKPOINT_TRAP
        return result

    def _holds_session_tickets(self) -> bool:
        return self._ssl_object.server_side and self._ssl_object.version() == "TLSv1.3"

    async def _send_to_transport(self, output: bytes) -> None:
        lock = self._transport_send_lock
        try:
            # Queue for the lock before yielding anywhere else: the lock's FIFO order is
            # what keeps each task's bytes in the order they left the SSLObject.
            await _take(lock)
            try:
                if self._held_output:
                    output = self._held_output + output
                    self._held_output = b""
                await self.transport_stream.send_all(output)
            finally:
                lock.release()
        except BaseException:
            # These bytes are out of the SSLObject and not all on the wire (cancelled
            # while queueing, or part way through sending): nothing sent after them
            # could make sense to the peer.
            if self._state is _State.OK:
                self._state = _State.BROKEN
            raise

    async def _receive_from_transport(self) -> None:
        receives_before = self._receives_done
        lock = self._transport_receive_lock
        await _take(lock)
        try:
            if receives_before != self._receives_done:
                return  # another task received meanwhile: retry the operation first
            data = await self.transport_stream.receive_some()
            if data:
                self._receive_size_hint = max(self._receive_size_hint, len(data))
                self._incoming.write(data)
            elif not self._incoming.eof:
                self._incoming.write_eof()
            self._receives_done += 1
        finally:
            lock.release()

    async def _ensure_handshake(self) -> None:
        """Complete the handshake, or wait for the task doing it. Returns without a
        checkpoint when it is already done."""
        while not self._handshake_done:
            if self._handshake_running:
                finished = self._handshake_finished
                await finished.wait()
                # It failed (or the stream was closed) in the other task? If it was
                # cancelled instead, go round: this task takes over.
                self._check_status()
                continue
            await checkpoint_if_cancelled()
            self._handshake_attempted = True
            self._handshake_running = True
            finished = self._handshake_finished = Event()
            try:
                await self._drive(self._ssl_object.do_handshake, is_handshake=True)
            except Cancelled:
                # Cancelled while waiting for the peer's bytes, nothing is lost: the
                # SSLObject resumes where it stopped on the next call. (Cancelled while
                # sending, _send_to_transport has marked the stream broken.)
                raise
            except BaseException:
                if self._state is _State.OK:
                    self._state = _State.BROKEN
                raise
            else:
                self._handshake_done = True
            finally:
                self._handshake_running = False
                finished.set()

    # -- the stream interface ----------------------------------------------------------

    async def do_handshake(self) -> None:
        """Complete the TLS handshake, if it is not done yet.

        Not needed in general (the first send or receive does it), but useful to look
        at the peer's certificate before talking. If another task is doing the
        handshake, wait for it; if it is done, this is only a checkpoint. Raises
        ``BrokenResourceError`` (with the ``ssl.SSLError`` as its ``__cause__``) when
        the handshake fails, say on an untrusted certificate.
        """
        self._check_status()
        if self._handshake_done:
            await CHECKPOINT_TRAP
        else:
            await self._ensure_handshake()

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Encrypt ``data`` and send it on the transport; see ``abc.SendStream``."""
        try:
            view = memoryview(data)
        except TypeError:
            raise TypeError(
                f"send_all() expected bytes, bytearray or memoryview for data, got "
                f"{type(data).__name__}"
            ) from None
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        with self._send_conflict:
            self._check_status()
            await self._ensure_handshake()
            if not view:
                # SSLObject.write(b"") would mean something else entirely (an EOF).
                await CHECKPOINT_TRAP
                return
            for start in range(0, len(view), _WRITE_CHUNK):
                await self._drive(self._ssl_object.write, view[start : start + _WRITE_CHUNK])

    async def wait_send_all_might_not_block(self) -> None:
        """Wait until the transport would probably take more bytes; see
        ``abc.SendStream``."""
        with self._send_conflict:
            self._check_status()
            # A receive_some in another task may be sending (a renegotiation); the
            # transport must not see two senders, so wait for the lock like it does.
            async with self._transport_send_lock:
                await self.transport_stream.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        """Receive and decrypt some data; see ``abc.ReceiveStream``.

        Returns ``b""`` once the peer has ended the TLS session with close_notify
        (or, with ``https_compatible=True``, once the transport has ended).
        """
        if max_bytes is not None:
            try:
                max_bytes = operator.index(max_bytes)
            except TypeError:
                raise TypeError(
                    f"receive_some() expected an int or None for max_bytes, got "
                    f"{type(max_bytes).__name__}"
                ) from None
            if max_bytes < 1:
                raise ValueError(f"receive_some() needs max_bytes >= 1, got {max_bytes}")
        with self._receive_conflict:
            if self._peer_ended_without_notify and self._state is not _State.CLOSED:
                await CHECKPOINT_TRAP
                return b""
            self._check_status()
            try:
                await self._ensure_handshake()
                if max_bytes is None:
                    max_bytes = max(self._receive_size_hint, self._incoming.pending)
                data = await self._drive(self._ssl_object.read, max_bytes)
            except BrokenResourceError as exc:
                if self._https_compatible and _is_ragged_eof(exc.__cause__):
                    # The stream stays broken for sending; receiving goes on saying EOF.
                    self._peer_ended_without_notify = True
                    return b""
                raise
            assert data is not None
            return data

    async def unwrap(self) -> tuple[_StreamT, bytes | bytearray]:
        """End the TLS session cleanly (close_notify both ways) and give the
        transport back, for talking in clear again.

        Returns ``(transport_stream, trailing_bytes)``: ``trailing_bytes`` is what was
        received from the transport after the peer's close_notify; treat it as the
        first bytes received from the transport. Afterwards this stream is closed
        (``transport_stream`` is ``None``), and closing it does nothing.
        """
        with self._receive_conflict, self._send_conflict:
            self._check_status()
            await self._ensure_handshake()
            await self._drive(self._ssl_object.unwrap)
            transport_stream = self.transport_stream
            self._state = _State.CLOSED
            self.transport_stream = None  # type: ignore[assignment]  # closed: unusable
            return transport_stream, self._incoming.read()

    async def aclose(self) -> None:
        """Close the stream and its transport.

        Unless ``https_compatible`` is set, send close_notify first (doing the
        handshake first if it never started, since nothing can be said before it),
        but do not wait for the peer's: a peer that is only sending would never
        answer. A handshake that was started and abandoned (cancelled) is not
        resumed: the transport is just closed. The transport is closed in every
        case, even on error or cancellation; a handshake that fails here raises
        ``BrokenResourceError``.
        """
        if self._state is _State.CLOSED:
            await CHECKPOINT_TRAP
            return
        abandoned_handshake = (
            self._handshake_attempted and not self._handshake_done and not self._handshake_running
        )
        if self._state is _State.BROKEN or self._https_compatible or abandoned_handshake:
            self._state = _State.CLOSED
            await self.transport_stream.aclose()
            return
        try:
            await self._ensure_handshake()
            try:
                await self._drive(self._ssl_object.unwrap, want_read_is_done=True)
            except (BrokenResourceError, BusyResourceError):
                # The peer may have closed first: both ends closing at once is
                # normal, and the close_notify had nowhere to go.
                pass
        except BaseException:
            self._state = _State.CLOSED
            await _aclose_forcefully(self.transport_stream)
            raise
        else:
            self._state = _State.CLOSED
            await self.transport_stream.aclose()

    # -- what the SSLObject knows ------------------------------------------------------

    def _require_handshake(self, name: str) -> None:
        if not self._handshake_done:
            raise NeedHandshakeError(f"call do_handshake() before {name}")

    @property
    def context(self) -> ssl.SSLContext:
        """The ``ssl.SSLContext`` in use; settable before the handshake (say, from an
        SNI callback)."""
        return self._ssl_object.context

    @context.setter
    def context(self, value: ssl.SSLContext) -> None:
        self._ssl_object.context = value

    @property
    def server_side(self) -> bool:
        return self._ssl_object.server_side

    @property
    def server_hostname(self) -> str | None:
        return self._ssl_object.server_hostname

    @property
    def session(self) -> ssl.SSLSession | None:
        """The TLS session, for resuming it on another connection (TLS 1.2)."""
        return self._ssl_object.session

    @session.setter
    def session(self, value: ssl.SSLSession | None) -> None:
        self._ssl_object.session = value

    @property
    def session_reused(self) -> bool:
        self._require_handshake("session_reused")
        return self._ssl_object.session_reused

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The peer's certificate, as ``ssl.SSLSocket.getpeercert`` gives it."""
        self._require_handshake("getpeercert()")
        return self._ssl_object.getpeercert(binary_form)

    def cipher(self) -> tuple[str, str, int] | None:
        self._require_handshake("cipher()")
        return self._ssl_object.cipher()

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        self._require_handshake("shared_ciphers()")
        return self._ssl_object.shared_ciphers()

    def compression(self) -> str | None:
        self._require_handshake("compression()")
        return self._ssl_object.compression()

    def version(self) -> str | None:
        self._require_handshake("version()")
        return self._ssl_object.version()

    def selected_alpn_protocol(self) -> str | None:
        self._require_handshake("selected_alpn_protocol()")
        return self._ssl_object.selected_alpn_protocol()

    def selected_npn_protocol(self) -> str | None:
        self._require_handshake("selected_npn_protocol()")
        return self._ssl_object.selected_npn_protocol()

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        self._require_handshake("get_channel_binding()")
        return self._ssl_object.get_channel_binding(cb_type)

    def pending(self) -> int:
        """Decrypted bytes ready to be returned by ``receive_some`` at once."""
        return self._ssl_object.pending()


@final
class SSLListener(Listener[SSLStream[_StreamT]], metaclass=_FinalABCMeta):
    """A listener whose connections are ``SSLStream``\\ s, server side, over the
    streams ``transport_listener`` accepts.

    ``accept()`` does not do the handshake (the first operation on the stream does),
    so a slow client cannot hold up the accept loop.
    """

    __slots__ = ("_https_compatible", "_ssl_context", "transport_listener")

    def __init__(
        self,
        transport_listener: Listener[_StreamT],
        ssl_context: ssl.SSLContext,
        *,
        https_compatible: bool = False,
    ) -> None:
        if not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(
                f"SSLListener() expected an ssl.SSLContext for ssl_context, got "
                f"{type(ssl_context).__name__}"
            )
        self.transport_listener = transport_listener
        self._ssl_context = ssl_context
        self._https_compatible = bool(https_compatible)

    async def accept(self) -> SSLStream[_StreamT]:
        """Accept a connection from the transport listener and wrap it."""
        transport_stream = await self.transport_listener.accept()
        return SSLStream(
            transport_stream,
            self._ssl_context,
            server_side=True,
            https_compatible=self._https_compatible,
        )

    async def aclose(self) -> None:
        """Close the transport listener."""
        await self.transport_listener.aclose()
