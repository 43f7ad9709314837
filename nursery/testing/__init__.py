"""Tools for testing code that uses nursery: virtual time, waiting for quiescence,
ordering tasks by hand, and checking checkpoints."""

from .._core._mock_clock import MockClock as MockClock
from .._core._runner import wait_all_tasks_blocked as wait_all_tasks_blocked
from .._threads._bridge import active_thread_count as active_thread_count
from .._threads._bridge import wait_all_threads_completed as wait_all_threads_completed
from ._check_one_way import check_one_way_stream as check_one_way_stream
from ._check_two_way import check_half_closeable_stream as check_half_closeable_stream
from ._check_two_way import check_two_way_stream as check_two_way_stream
from ._checkpoints import assert_checkpoints as assert_checkpoints
from ._checkpoints import assert_no_checkpoints as assert_no_checkpoints
from ._lockstep_streams import lockstep_stream_one_way_pair as lockstep_stream_one_way_pair
from ._lockstep_streams import lockstep_stream_pair as lockstep_stream_pair
from ._memory_streams import MemoryReceiveStream as MemoryReceiveStream
from ._memory_streams import MemorySendStream as MemorySendStream
from ._memory_streams import memory_stream_one_way_pair as memory_stream_one_way_pair
from ._memory_streams import memory_stream_pair as memory_stream_pair
from ._memory_streams import memory_stream_pump as memory_stream_pump
from ._nursery_test import nursery_test as nursery_test
from ._sequencer import Sequencer as Sequencer
from ._socket_listener_client import (
    open_stream_to_socket_listener as open_stream_to_socket_listener,
)
