"""Who is working: a process's worker id ("host:pid:nonce") and whether the process it names is gone.

Rows a process takes (outbox claims, inbox entries) carry its worker id, so that after a crash the
next process on the same host takes them back at once, and others after a timeout.
"""

from __future__ import annotations

import os
import uuid


def new_worker_id() -> str:
    return f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def on_this_host(worker_id: str) -> bool:
    return worker_id.partition(":")[0] == os.uname().nodename


def dead_here(worker_id: str) -> bool:
    """Whether a worker id names a process of this host that no longer runs."""
    host, _, rest = worker_id.partition(":")
    pid = rest.partition(":")[0]
    if host != os.uname().nodename or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
