"""``quanta daemon``: see and stop the warm fork servers of :mod:`quanta.cli.launch`."""

from __future__ import annotations

import os
import re

import typer

from quanta.cli.common import console
from quanta.cli.launch import runtime_dir, socket_path

app = typer.Typer(help="The warm fork servers that run commands without start-up cost.", no_args_is_help=True)


@app.command("status")
def status() -> None:
    """List the servers of this user: socket, pid, commands served, and which serves this installation."""
    folder = runtime_dir(os.environ)
    mine = socket_path(os.environ)
    out = console()
    sockets = sorted(folder.glob("*.sock"))
    if not sockets:
        out.print(f"no server running (QUANTA_DAEMON={os.environ.get('QUANTA_DAEMON', 'unset')}); folder {folder}")
        return
    for path in sockets:
        log = path.with_suffix(".log").read_text() if path.with_suffix(".log").exists() else ""
        pids = re.findall(r"as pid (\d+)", log)
        served = len(re.findall(r" ran \w+:", log))
        tag = "this installation" if path == mine else "another installation or older code"
        out.print(f"{path}  pid {pids[-1] if pids else '?'}  {served} command(s) served  ({tag})")


@app.command("stop")
def stop() -> None:
    """Stop every server: each finishes the commands it is running, then exits."""
    sockets = list(runtime_dir(os.environ).glob("*.sock"))
    for path in sockets:
        path.unlink(missing_ok=True)
    console().print(f"stopped {len(sockets)} server(s)")
