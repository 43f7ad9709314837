"""For library authors: the kernel's building blocks (tasks, traps, parking lots, I/O
waits, run-wide variables, instruments, entering the run from other threads)."""

from ._core._context import current_task as current_task
from ._core._context import in_run as in_run
from ._core._context import in_task as in_task
from ._core._detach import (
    permanently_detach_coroutine_object as permanently_detach_coroutine_object,
)
from ._core._detach import (
    reattach_detached_coroutine_object as reattach_detached_coroutine_object,
)
from ._core._detach import (
    temporarily_detach_coroutine_object as temporarily_detach_coroutine_object,
)
from ._core._entry_queue import RunToken as RunToken
from ._core._ki import currently_ki_protected as currently_ki_protected
from ._core._ki import disable_ki_protection as disable_ki_protection
from ._core._ki import enable_ki_protection as enable_ki_protection
from ._core._parking_lot import ParkingLot as ParkingLot
from ._core._parking_lot import ParkingLotStatistics as ParkingLotStatistics
from ._core._parking_lot import add_parking_lot_breaker as add_parking_lot_breaker
from ._core._parking_lot import remove_parking_lot_breaker as remove_parking_lot_breaker
from ._core._run_var import RunVar as RunVar
from ._core._run_var import RunVarToken as RunVarToken
from ._core._runner import RunStatistics as RunStatistics
from ._core._runner import add_instrument as add_instrument
from ._core._runner import current_clock as current_clock
from ._core._runner import current_root_task as current_root_task
from ._core._runner import current_statistics as current_statistics
from ._core._runner import current_token as current_token
from ._core._runner import notify_closing as notify_closing
from ._core._runner import remove_instrument as remove_instrument
from ._core._runner import reschedule as reschedule
from ._core._runner import spawn_system_task as spawn_system_task
from ._core._runner import wait_readable as wait_readable
from ._core._runner import wait_writable as wait_writable
from ._core._task import Task as Task
from ._core._traps import Abort as Abort
from ._core._traps import RaiseCancelT as RaiseCancelT
from ._core._traps import cancel_shielded_checkpoint as cancel_shielded_checkpoint
from ._core._traps import checkpoint as checkpoint
from ._core._traps import checkpoint_if_cancelled as checkpoint_if_cancelled
from ._core._traps import wait_task_rescheduled as wait_task_rescheduled
from ._fd_stream import FdStream as FdStream
from ._socket._idna import encode_hostname as encode_hostname
from ._subprocess._process import open_process as open_process
from ._threads._cache import start_thread_soon as start_thread_soon
