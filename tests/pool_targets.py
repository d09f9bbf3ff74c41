"""Worker targets for pool tests (importable by spawned processes)."""

from __future__ import annotations

import os
import time


def echo_pid(conn, setup):
    conn.send(("ready", None))
    while True:
        task = conn.recv()
        if task is None:
            return
        if task == "crash":
            os._exit(3)
        if task == "hang":
            time.sleep(60)
        conn.send(("ok", (task, os.getpid())))
