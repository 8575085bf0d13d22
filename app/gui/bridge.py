"""The bridge from core work to Qt: runs a job on a Python thread and hands its progress and result
to the GUI thread as signals. Progress is coalesced to at most ~10 signals a second so a fast job
never floods the event loop; the job itself never touches a widget."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

EMIT_INTERVAL_MS = 100

Job = Callable[[Callable[[Any], None], Callable[[], bool]], Any]  # job(progress, cancelled) -> result


class JobRunner(QObject):
    """One background job at a time. `progress` carries the latest value the job reported;
    `finished` carries the job's result, `failed` a readable message."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._latest: Any = None
        self._outcome: tuple[str, Any] | None = None
        self.started_at = 0.0
        # polled from the GUI thread: the job thread only stores values, Qt delivers them
        self._timer = QTimer(self)
        self._timer.setInterval(EMIT_INTERVAL_MS)
        self._timer.timeout.connect(self._deliver)

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, job: Job) -> None:
        if self._thread is not None:
            raise RuntimeError("a job is already running")
        self._cancel.clear()
        self._latest, self._outcome = None, None
        self.started_at = time.monotonic()
        self._thread = threading.Thread(target=self._run, args=(job,), name="tessera-job", daemon=True)
        self._thread.start()
        self._timer.start()

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _report(self, value: Any) -> None:
        with self._lock:
            self._latest = value

    def _run(self, job: Job) -> None:
        try:
            outcome: tuple[str, Any] = ("ok", job(self._report, self._cancel.is_set))
        except Exception as exc:  # shown to the user; the traceback goes to the log
            traceback.print_exc()
            outcome = ("error", str(exc) or type(exc).__name__)
        with self._lock:
            self._outcome = outcome

    def _deliver(self) -> None:
        with self._lock:
            latest, self._latest = self._latest, None
            outcome = self._outcome
        if latest is not None:
            self.progress.emit(latest)
        if outcome is None:
            return
        self._timer.stop()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        kind, value = outcome
        if kind == "ok":
            self.finished.emit(value)
        else:
            self.failed.emit(value)
