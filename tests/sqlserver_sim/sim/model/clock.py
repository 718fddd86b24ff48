"""Simulated time.

Simulated time = scenario start + (wall time elapsed x speed), plus whatever was added by `advance`. The clock
can be paused (simulated time stands still) and stepped forward; tests pause it at once and step it, so no
test depends on wall time. The wall clock is injectable.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable


class SimClock:
    def __init__(self, start: dt.datetime, speed: float = 1.0, wall: Callable[[], float] = time.monotonic):
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.start = start              # naive UTC
        self.speed = float(speed)
        self._wall = wall
        self._lock = threading.Lock()
        self._base = 0.0                # simulated seconds since start at the anchor
        self._anchor = wall()
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def elapsed(self) -> float:
        """Simulated seconds since the scenario start."""
        with self._lock:
            if self._paused:
                return self._base
            return self._base + (self._wall() - self._anchor) * self.speed

    def now(self) -> dt.datetime:
        return self.at(self.elapsed())

    def at(self, offset: float) -> dt.datetime:
        """The simulated datetime (naive UTC) at an offset from the start, to the microsecond."""
        return self.start + dt.timedelta(microseconds=round(offset * 1_000_000))

    def offset_of(self, when: dt.datetime) -> float:
        return (when - self.start).total_seconds()

    def pause(self) -> None:
        with self._lock:
            if not self._paused:
                self._base += (self._wall() - self._anchor) * self.speed
                self._paused = True

    def resume(self) -> None:
        with self._lock:
            if self._paused:
                self._anchor = self._wall()
                self._paused = False

    def advance(self, seconds: float) -> None:
        """Move simulated time forward (paused or running)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._base += seconds
