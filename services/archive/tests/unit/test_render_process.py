"""The snapshot render process does not outlive the archive process that started it.

A SIGKILLed archive (OOM killer, crash, the fault tests) cannot shut its pool down; the render
process notices its parent is gone and exits instead of waiting on its pipe forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil

ARCHIVE_PROCESS = textwrap.dedent("""
    import os, sys, time
    from socialops_archive.registration import RegistrationDesk
    from socialops_archive.settings import ArchiveSettings

    desk = RegistrationDesk(None, ArchiveSettings(database_url="postgresql://unused/none"))
    print(desk._render_pool().submit(os.getpid).result(timeout=60), flush=True)
    time.sleep(600)
""")


def test_the_render_process_exits_when_the_archive_process_is_killed() -> None:
    archive = subprocess.Popen([sys.executable, "-c", ARCHIVE_PROCESS], stdout=subprocess.PIPE, text=True)
    try:
        render_pid = int(archive.stdout.readline())
        render = psutil.Process(render_pid)
        assert render.ppid() == archive.pid
        os.kill(archive.pid, signal.SIGKILL)
        archive.wait(10)
        deadline = time.monotonic() + 10
        while render.is_running() and render.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the render process outlived its parent"
            time.sleep(0.1)
    finally:
        if archive.poll() is None:
            archive.kill()
            archive.wait()
