"""nursery: structured concurrency for Python, on a kernel of its own.

The public API mirrors Trio's names and semantics; see docs/porting.md.
"""

# As with Trio, `import nursery` makes the submodules for library authors available.
from . import abc as abc
from . import from_thread as from_thread
from . import lowlevel as lowlevel
from . import socket as socket
from . import to_process as to_process
from . import to_thread as to_thread
from ._channel import MemoryChannelStatistics as MemoryChannelStatistics
from ._channel import MemoryReceiveChannel as MemoryReceiveChannel
from ._channel import MemorySendChannel as MemorySendChannel
from ._channel import as_safe_channel as as_safe_channel
from ._channel import open_memory_channel as open_memory_channel
from ._core._cancel_scope import CancelScope as CancelScope
from ._core._exceptions import BrokenResourceError as BrokenResourceError
from ._core._exceptions import BusyResourceError as BusyResourceError
from ._core._exceptions import Cancelled as Cancelled
from ._core._exceptions import ClosedResourceError as ClosedResourceError
from ._core._exceptions import EndOfChannel as EndOfChannel
from ._core._exceptions import InternalError as InternalError
from ._core._exceptions import NurseryDeprecationWarning as NurseryDeprecationWarning
from ._core._exceptions import RunFinishedError as RunFinishedError
from ._core._exceptions import WouldBlock as WouldBlock
from ._core._loop import run as run
from ._core._nursery import TASK_STATUS_IGNORED as TASK_STATUS_IGNORED
from ._core._nursery import Nursery as Nursery
from ._core._nursery import TaskStatus as TaskStatus
from ._core._nursery import open_nursery as open_nursery
from ._core._runner import current_time as current_time
from ._core._sleep import current_effective_deadline as current_effective_deadline
from ._core._sleep import sleep as sleep
from ._core._sleep import sleep_forever as sleep_forever
from ._core._sleep import sleep_until as sleep_until
from ._file_io import open_file as open_file
from ._file_io import wrap_file as wrap_file
from ._open_tcp_stream import open_tcp_stream as open_tcp_stream
from ._path import Path as Path
from ._path import PosixPath as PosixPath
from ._select import gather as gather
from ._select import map_concurrently as map_concurrently
from ._select import race as race
from ._serve import serve_listeners as serve_listeners
from ._serve import serve_tcp as serve_tcp
from ._signals import open_signal_receiver as open_signal_receiver
from ._socket_stream import SocketListener as SocketListener
from ._socket_stream import SocketStream as SocketStream
from ._ssl import NeedHandshakeError as NeedHandshakeError
from ._ssl import SSLListener as SSLListener
from ._ssl import SSLStream as SSLStream
from ._ssl_helpers import open_ssl_over_tcp_listeners as open_ssl_over_tcp_listeners
from ._ssl_helpers import open_ssl_over_tcp_stream as open_ssl_over_tcp_stream
from ._ssl_helpers import serve_ssl_over_tcp as serve_ssl_over_tcp
from ._stapled_stream import StapledStream as StapledStream
from ._stapled_stream import aclose_forcefully as aclose_forcefully
from ._subprocess._process import Process as Process
from ._subprocess._run import run_process as run_process
from ._sync import CapacityLimiter as CapacityLimiter
from ._sync import CapacityLimiterStatistics as CapacityLimiterStatistics
from ._sync import Condition as Condition
from ._sync import ConditionStatistics as ConditionStatistics
from ._sync import Event as Event
from ._sync import EventStatistics as EventStatistics
from ._sync import Lock as Lock
from ._sync import LockStatistics as LockStatistics
from ._sync import Semaphore as Semaphore
from ._sync import StrictFIFOLock as StrictFIFOLock
from ._tcp_listeners import open_tcp_listeners as open_tcp_listeners
from ._timeouts import TooSlowError as TooSlowError
from ._timeouts import fail_after as fail_after
from ._timeouts import fail_at as fail_at
from ._timeouts import move_on_after as move_on_after
from ._timeouts import move_on_at as move_on_at
from ._unix_socket import open_unix_socket as open_unix_socket

__version__ = "0.1.0"
