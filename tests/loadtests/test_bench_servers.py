"""The /proc readers the bench reports server CPU and memory with: they must count a
server's worker processes, where granian does the work."""

from __future__ import annotations

import subprocess
import sys
import time

from loadtests.bench.servers import children, cpu_seconds, peak_rss_mb

# A parent that starts one child which burns CPU for a while, then both wait to be killed.
_BURNER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", '''
import time
end = time.process_time() + 0.6
while time.process_time() < end:
    pass
block = bytearray(64 * 1024 * 1024)
print("done", flush=True)
time.sleep(60)
'''], stdout=sys.stdout)
time.sleep(60)
"""


def test_cpu_and_memory_include_the_workers_a_server_forks() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _BURNER], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == "done"
        [worker] = children(parent.pid)
        # The parent only sleeps; the 0.6 s and the 64 MiB are its worker's.
        assert cpu_seconds(parent.pid) >= 0.55
        assert cpu_seconds(parent.pid) - cpu_seconds(worker) < 0.2
        assert peak_rss_mb(parent.pid) - peak_rss_mb(worker) < 40
        assert peak_rss_mb(worker) >= 64
    finally:
        for pid in children(parent.pid):
            subprocess.run(["kill", str(pid)], check=False)
        parent.kill()
        parent.wait()


def test_a_process_without_children_counts_only_itself() -> None:
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        assert children(idle.pid) == []
        assert cpu_seconds(idle.pid) < 0.5
    finally:
        idle.kill()
        idle.wait()
