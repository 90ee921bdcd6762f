"""Who a process of the local stack is, from its command line and parent (the CPU tables' roles)."""
from __future__ import annotations

import sys

from bench.procs import Proc, role


def test_each_process_of_the_stack_gets_its_role() -> None:
    api = Proc(1, 0, 0, (sys.executable, "-m", "devstack", "up"))
    procs = {p.pid: p for p in [
        api,
        Proc(2, 1, 0, (sys.executable, "-m", "devstack.motoserver", "--port", "5000")),
        Proc(3, 1, 0, ("/usr/bin/valkey-server", "--port", "6379")),
        Proc(4, 1, 0, (sys.executable, "-m", "workers", "--role", "processor")),
        Proc(5, 4, 0, ("/x/ffmpeg-linux-x86_64-v9.0.2", "-i", "in.mp4")),
        Proc(6, 1, 0, (sys.executable, "-m", "chalicelib.media.probe", "pipe:3,4")),
    ]}
    assert [role(p, procs, root=1) for p in procs.values()] == [
        "api+chunker", "moto", "valkey", "processor", "processor ffmpeg", "chunker probe"]
