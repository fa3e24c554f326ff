"""Reading uploads in a worker process with a memory and a CPU limit.

A reader (calamine in Rust, openpyxl, the csv module) is handed bytes chosen by whoever uploads
them. read.py refuses every shape of file known to blow up a reader, but an unknown bug in a
reader must not take the server down for everyone: the parse runs in a child process whose
address space and CPU time are capped (setrlimit), and a child that dies or runs out of time
becomes the refusal "imp.too_complex" for that one user.

Children are forked from a forkserver that has already imported the readers, so starting one
costs milliseconds, and the server's own threads and locks are never copied into them. At most
`WORKERS` parses run at once; another user's upload waits for a free place (`imp.busy` after
`QUEUE_SECONDS`).
"""

import io
import logging
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util

from services.faults import server_side
from services.imports.report import ImportRefused

log = logging.getLogger(__name__)

MEMORY_MB = int(os.environ.get("IKM_PARSE_MEMORY_MB", "768"))  # on top of the child's start
CPU_SECONDS = int(os.environ.get("IKM_PARSE_CPU_SECONDS", "30"))
WALL_SECONDS = float(os.environ.get("IKM_PARSE_WALL_SECONDS", "60"))
WORKERS = 2
QUEUE_SECONDS = 120.0

_places = threading.BoundedSemaphore(WORKERS)
_context_lock = threading.Lock()
_context: list = []
_warming: list = []


class _Popen(popen_forkserver.Popen):
    # The standard launch, minus one step: a worker must not re-run the server's __main__
    # (`streamlit run` is a console script; running it again in the worker would import
    # Streamlit there, or fail outright for a main without a file). The worker needs only
    # sys.path and the working directory, which the preparation data keeps.
    def _launch(self, process_obj):
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Worker(context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):  # noqa: N802  (the name multiprocessing calls)
        return _Popen(process_obj)


def _ctx():
    """The forkserver context, with the readers imported once in the forkserver."""
    with _context_lock:
        if not _context:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["services.imports.read"])
            _context.append(ctx)
        return _context[0]


def warm_up() -> None:
    """Start the forkserver in the background (it imports the readers once, a few seconds),
    so that the first upload does not wait for it; once per process."""
    with _context_lock:
        if _warming:
            return
        _warming.append(True)

    def start():
        try:
            _ctx()
            forkserver.ensure_running()
        except Exception as exc:  # noqa: BLE001  (the first upload starts it, or says why)
            log.warning("upload reader warm-up failed: %r", exc)

    threading.Thread(target=start, name="ikm-reader-warm-up", daemon=True).start()


def _address_space() -> int:
    """This process's current virtual memory size in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _limit(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process: its address space may grow by `memory_mb`, its CPU time is bounded."""
    try:
        ceiling = _address_space() + memory_mb * 1024 * 1024
    except OSError:  # no /proc: a fixed ceiling
        ceiling = (1024 + memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def _child(conn, target: Callable, args: tuple, memory_mb: int, cpu_seconds: int) -> None:
    # Runs in the worker: quiet (a reader that aborts must not print its backtrace into the
    # server's log), limited, and answering with a result or a refusal, never a traceback.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.environ["RUST_BACKTRACE"] = "0"
    try:
        _limit(memory_mb, cpu_seconds)
        answer = ("ok", target(*args))
    except ImportRefused as exc:
        answer = ("refused", exc.key, exc.params)
    except MemoryError:
        answer = ("refused", "imp.too_complex", {})
    except OSError as exc:
        # the server's own trouble (a full disk ...) is no fault of the file
        answer = ("server", exc.errno, str(exc)[:300]) if server_side(exc) \
            else ("failed", f"{type(exc).__name__}: {exc}"[:300])
    except Exception as exc:  # noqa: BLE001  (reported as one line by the parent)
        answer = ("failed", f"{type(exc).__name__}: {exc}"[:300])
    try:
        conn.send(answer)
    except MemoryError:
        conn.send(("refused", "imp.too_complex", {}))
    finally:
        conn.close()


def run_limited(target: Callable, *args, memory_mb: int | None = None,
                cpu_seconds: int | None = None, wall_seconds: float | None = None):
    """`target(*args)` in a worker process under the limits; its result, or ImportRefused
    (the target's own refusal, "imp.too_complex" when the worker died or ran out of time,
    "imp.busy" when no place freed up). `target` must be importable by name."""
    memory_mb = MEMORY_MB if memory_mb is None else memory_mb
    cpu_seconds = CPU_SECONDS if cpu_seconds is None else cpu_seconds
    wall_seconds = WALL_SECONDS if wall_seconds is None else wall_seconds
    if not _places.acquire(timeout=QUEUE_SECONDS):
        raise ImportRefused("imp.busy")
    try:
        ctx = _ctx()
        receiver, sender = ctx.Pipe(duplex=False)
        worker = _Worker(target=_child, name="ikm-upload-reader", daemon=True,
                             args=(sender, target, args, memory_mb, cpu_seconds))
        started = time.monotonic()
        worker.start()
        sender.close()
        try:
            answer = receiver.recv() if receiver.poll(wall_seconds) else None
        except (EOFError, OSError):  # the worker died without answering
            answer = None
        finally:
            receiver.close()
        if answer is None and worker.is_alive():
            worker.kill()
        worker.join(5)
        if answer is None:
            log.warning("upload reader stopped: exit code %s after %.1f s (limits %d MB, %d s)",
                        worker.exitcode, time.monotonic() - started, memory_mb, cpu_seconds)
            raise ImportRefused("imp.too_complex")
    finally:
        _places.release()
    if answer[0] == "ok":
        return answer[1]
    if answer[0] == "refused":
        raise ImportRefused(answer[1], **answer[2])
    if answer[0] == "server":  # explained as a server fault (services.faults), not the file's
        raise OSError(answer[1], answer[2])
    log.warning("upload reader failed: %s", answer[1])
    raise ImportRefused("imp.unreadable")
