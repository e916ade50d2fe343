"""Running a child under limits: timeouts kill the whole group, memory overruns are stopped,
signals are reported, output is captured (plain POSIX processes, no Legion needed)."""

from __future__ import annotations

import os
import sys
import time

import pytest

from mapper_gym.legion.process import run_limited


def test_normal_exit_captures_both_streams():
    out = run_limited([sys.executable, "-c",
                       "import sys; print('hello'); print('oops', file=sys.stderr); sys.exit(3)"],
                      time_limit=30)
    assert (out.returncode, out.stdout, out.stderr) == (3, "hello\n", "oops\n")
    assert not out.timed_out and not out.memory_exceeded
    assert out.killed_by is None


def test_timeout_kills_the_whole_process_group(tmp_path):
    marker = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    out = run_limited([sys.executable, "-c", script], time_limit=1.5)
    assert out.timed_out
    assert time.monotonic() - started < 20
    assert out.killed_by == "SIGKILL"
    assert out.stdout == "started\n"
    grandchild = int(marker.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the grandchild died with its group
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{grandchild}/stat") as handle:
            if handle.read().split()[2] == "Z":  # a zombie waiting for its reaper: dead
                break
        time.sleep(0.05)
    else:
        pytest.fail("the grandchild survived the timeout")


def test_memory_limit_stops_a_growing_process():
    script = "import time\nblocks = []\nwhile True:\n    blocks.append(bytearray(50 * 2**20))\n" \
             "    time.sleep(0.01)\n"
    out = run_limited([sys.executable, "-c", script], time_limit=60, memory_limit=300 * 2**20)
    assert out.memory_exceeded and not out.timed_out
    assert out.peak_rss_bytes > 300 * 2**20
    assert out.returncode < 0


def test_a_killed_child_reports_its_signal():
    out = run_limited([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), "
                       "signal.SIGSEGV)"], time_limit=30)
    assert out.killed_by == "SIGSEGV"
    assert not out.timed_out


def test_long_output_keeps_head_and_tail(monkeypatch):
    import mapper_gym.legion.process as process

    monkeypatch.setattr(process, "OUTPUT_CAP", 1000)
    out = run_limited([sys.executable, "-c",
                       "print('FIRST'); print('x' * 5000); print('LAST')"], time_limit=30)
    assert out.stdout.startswith("FIRST")
    assert out.stdout.rstrip().endswith("LAST")
    assert "bytes of output cut" in out.stdout


def test_address_space_limit_applies_to_the_child():
    script = "b = bytearray(600 * 2**20)\nprint('allocated')"
    out = run_limited([sys.executable, "-c", script], time_limit=30, address_space=400 * 2**20)
    assert out.returncode != 0
    assert "MemoryError" in out.stderr


def test_time_limit_must_be_positive():
    with pytest.raises(ValueError):
        run_limited(["true"], time_limit=0)
