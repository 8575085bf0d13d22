"""Who is writing: the workstation's name (its host name, or TESSERA_WORKSTATION, which lets two
terminals on one machine act as two workstations) and this process."""

from __future__ import annotations

import os
import socket

ENV_VAR = "TESSERA_WORKSTATION"


def workstation_name() -> str:
    return os.environ.get(ENV_VAR, "").strip() or socket.gethostname()


def process_origin() -> str:
    return f"{workstation_name()}/{os.getpid()}"
