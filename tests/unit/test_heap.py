"""``settle_heap`` freezes the startup heap yet cyclic garbage made afterwards is still
collected. It runs in a child interpreter: freezing is process-wide and would keep the test
session's own objects forever."""

from __future__ import annotations

import json
import subprocess
import sys

from server.ops.heap import YOUNG_THRESHOLD

_CHILD = """
import gc, json, weakref
from server.ops.heap import settle_heap

class Node:
    pass

kept_from_startup = [Node() for _ in range(1000)]
heap = settle_heap()
late = Node(); late.me = late  # a cycle made after settling
alive = weakref.ref(late)
del late
collected = gc.collect()
print(json.dumps({
    "frozen": heap.frozen_objects,
    "thresholds": heap.thresholds,
    "collected": collected,
    "cycle_alive": alive() is not None,
    "frozen_after": gc.get_freeze_count(),
}))
"""


def test_settling_freezes_startup_and_still_collects_later_cycles() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True, timeout=60
    )
    report = json.loads(done.stdout)
    assert report["frozen"] >= 1000  # at least the startup list's objects
    assert report["frozen_after"] == report["frozen"]  # a collection does not thaw them
    assert report["thresholds"][0] == YOUNG_THRESHOLD
    assert report["collected"] >= 1
    assert report["cycle_alive"] is False
