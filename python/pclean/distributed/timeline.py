"""When each phase of a distributed run ended, in seconds from the call (the summary's
`distributed.timeline`): where a run's time goes besides the tasks (docs/distributed.md,
"Session 18")."""
from __future__ import annotations

import threading
import time


class Timeline:
    """Named instants of one run; `mark` may be called from any thread (the coordinator is made
    in one while the cluster starts in another). A name marked twice keeps its first instant."""

    def __init__(self):
        self._t0 = time.time()
        self._marks: dict[str, float] = {}
        self._lock = threading.Lock()

    def origin(self, t0: float) -> None:
        """Start a new run at `t0` (`time.time()`), forgetting earlier marks."""
        with self._lock:
            self._t0 = t0
            self._marks = {}

    def mark(self, name: str) -> None:
        now = time.time()
        with self._lock:
            self._marks.setdefault(name, now)

    def seconds(self, tasks: list | None = None) -> dict:
        """{name: seconds from the origin}, in order of time, with the first task's start and the
        last task's end on the workers (`tasks`: the summary's task infos, those with a `start`)
        when there are any."""
        with self._lock:
            marks = dict(self._marks)
        timed = [t for t in tasks or [] if "start" in t and "seconds" in t]
        if timed:  # block tasks (row tasks report their seconds only)
            marks["first_task_start"] = min(t["start"] for t in timed)
            marks["last_task_end"] = max(t["start"] + t["seconds"] for t in timed)
        return {k: round(v - self._t0, 4) for k, v in sorted(marks.items(), key=lambda kv: kv[1])}
