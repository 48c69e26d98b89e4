"""``ntz mllp``: the HL7 v2 lab-results listener, and ``ntz hl7``: its dead letters.

The listener takes ORU^R01 messages over MLLP (docs/hl7.md) into the clinic's
database, audited as ``hl7-mllp-listener``. ``ntz hl7 dead-letters`` lists,
shows, retries and discards the messages that were not applied; those commands
are audited as the operator at this server.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import threading
from collections.abc import Sequence
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Annotated

import typer

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.application.lab_messages import DeadLetter
from natalizumab_cds.application.security.permissions import Action
from natalizumab_cds.application.summary_refresh import SummaryCatchUp
from natalizumab_cds.bootstrap import clinic_service, hl7_endpoint, lab_feed, operator_principal
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.database import DatabaseUrl
from natalizumab_cds.cli.processes import STOP_SIGNALS, run_workers, shared_port_socket
from natalizumab_cds.cli.serving import settle_heap
from natalizumab_cds.config import get_settings
from natalizumab_cds.interop.hl7v2 import MllpLimits, MllpServer
from natalizumab_cds.interop.hl7v2.mllp import send as send_over_mllp

hl7_app = typer.Typer(help="The HL7 v2 lab feed.", no_args_is_help=True)
letters_app = typer.Typer(help="Lab messages that were not applied.", no_args_is_help=True)
app.add_typer(hl7_app, name="hl7")
hl7_app.add_typer(letters_app, name="dead-letters")


@app.command()
def mllp(
    host: Annotated[str | None, typer.Option(help="Default: NTZ_MLLP_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: NTZ_MLLP_PORT (0: any)")] = None,
    read_timeout: Annotated[float, typer.Option(help="Seconds for a started frame")] = 30.0,
    idle_timeout: Annotated[float, typer.Option(help="Seconds a silent connection stays")] = 900.0,
    batch: Annotated[
        int, typer.Option(min=1, help="Most messages committed together (group commit)")
    ] = 64,
    workers: Annotated[
        int, typer.Option(min=1, help="Listener processes (e.g. one per CPU core)")
    ] = 1,
    database_url: DatabaseUrl = None,
) -> None:
    """Listen for lab results (HL7 v2 ORU^R01 over MLLP) until interrupted.

    ``workers`` listener processes share the port (each its own ``SO_REUSEPORT``
    socket, ``cli/processes.py``); this process migrates the database first and
    then rebuilds, at the lowest CPU priority, the worklist summaries that the
    listeners' results left behind (``SummaryCatchUp``).
    """
    settings = get_settings()
    clinic = clinic_service(database_url, upgrade=True)
    if database_url:
        os.environ["NTZ_DATABASE_URL"] = database_url  # the listeners read the settings
    limits = MllpLimits(settings.max_message_bytes, read_timeout, idle_timeout)
    bound_host = host or settings.mllp_host
    reserved = shared_port_socket(bound_host, settings.mllp_port if port is None else port)
    bound_port = int(reserved.getsockname()[1])
    context = multiprocessing.get_context("spawn")
    ready: Queue[int] = context.Queue()
    listeners = [
        context.Process(
            target=_listen,
            args=(bound_host, bound_port, limits, batch, ready),
            name=f"ntz-mllp-{index}",
        )
        for index in range(workers)
    ]
    catch_up = SummaryCatchUp(clinic.worklist.catch_up, background=True)
    settle_heap()  # reassessing records is allocation-heavy: half its time went to the collector

    def started(stop: threading.Event) -> None:
        waiting = len(listeners)
        while waiting and not stop.is_set():
            try:
                ready.get(timeout=0.5)
                waiting -= 1
            except queue.Empty:
                if any(not listener.is_alive() for listener in listeners):
                    typer.echo("an MLLP listener process failed to start", err=True)
                    return  # run_workers sees it and stops the others
        if waiting:
            return  # stopped while starting
        catch_up.start()
        typer.echo(f"MLLP listener on {bound_host}:{bound_port} (Ctrl-C stops it)")

    try:
        run_workers(listeners, started)
    finally:
        reserved.close()
        catch_up.close()
        clinic.database.close()
    typer.echo("MLLP listener stopped")


def _listen(host: str, port: int, limits: MllpLimits, batch: int, ready: Queue[int]) -> None:
    """One listener process: its own socket on the shared port, the lab feed behind it."""
    listening = shared_port_socket(host, port)
    clinic = clinic_service()
    server = MllpServer(hl7_endpoint(clinic, on_changed=_left_to_catch_up), limits, batch)
    settle_heap()

    async def run() -> None:
        stop = asyncio.Event()
        for sig in STOP_SIGNALS:
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await server.start(host, port, sock=listening)
        ready.put(os.getpid())
        try:
            await stop.wait()
        finally:
            await server.close()

    try:
        asyncio.run(run())
    finally:
        clinic.database.close()


def _left_to_catch_up(patient_ids: Sequence[str]) -> None:
    """A listener does not rebuild summaries: the parent's ``SummaryCatchUp`` finds them."""


@hl7_app.command("send")
def send(
    files: Annotated[list[Path], typer.Argument(help="Files holding one ER7 message each")],
    host: Annotated[str | None, typer.Option(help="Default: NTZ_MLLP_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default: NTZ_MLLP_PORT")] = None,
) -> None:
    """Send messages to an MLLP listener and print each ACK (to test a connection)."""
    settings = get_settings()
    for path in files:
        lines = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r").split(b"\r")
        message = b"\r".join(line for line in lines if line) + b"\r"
        ack = send_over_mllp(host or settings.mllp_host, port or settings.mllp_port, message)
        typer.echo(
            f"{path}:\n  " + ack.decode("utf-8", "replace").strip("\r").replace("\r", "\n  ")
        )


def _letters(database_url: str | None) -> tuple[Clinic, LabFeed]:
    clinic = clinic_service(database_url, upgrade=True)
    return clinic, lab_feed(clinic, operator_principal(), Action.RESOLVE_LAB_MESSAGES)


def _line(letter: DeadLetter) -> str:
    when = letter.received_at.isoformat(timespec="seconds")
    who = f"{letter.sender} {letter.control_id}".strip() or "(no header)"
    state = "" if letter.status == "open" else f" [{letter.status}]"
    head = f"{letter.id:>6}  {when}  {letter.code}  x{letter.attempts}  {who}{state}"
    return f"{head}\n        {letter.reason}"


@letters_app.command("list")
def list_letters(
    everything: Annotated[bool, typer.Option("--all", help="Also resolved and discarded")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    database_url: DatabaseUrl = None,
) -> None:
    """Messages kept because they were not applied, newest first."""
    clinic, feed = _letters(database_url)
    try:
        letters = feed.dead_letters(None if everything else "open", limit)
    finally:
        clinic.database.close()
    typer.echo("\n".join(_line(letter) for letter in letters) or "no dead letters")


@letters_app.command("show")
def show(letter_id: int, database_url: DatabaseUrl = None) -> None:
    """One dead letter: why it was kept, and the message as received."""
    clinic, feed = _letters(database_url)
    try:
        letter = feed.dead_letter(letter_id)
    finally:
        clinic.database.close()
    if letter is None:
        raise typer.BadParameter(f"dead letter {letter_id} does not exist")
    typer.echo(_line(letter))
    if letter.resolution:
        typer.echo(f"        resolution: {letter.resolution}")
    typer.echo(letter.raw.decode("utf-8", "replace").replace("\r", "\n"))


@letters_app.command("retry")
def retry(
    letter_ids: Annotated[list[int] | None, typer.Argument(help="Default: every open one")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Apply kept messages again (e.g. once their patient is registered)."""
    clinic, feed = _letters(database_url)
    try:
        ids = letter_ids or [letter.id for letter in feed.dead_letters("open", 10_000)]
        for letter_id in ids:
            ack = feed.retry_dead_letter(letter_id)
            typer.echo(f"{letter_id}: {ack.code} {ack.text}")
    finally:
        clinic.database.close()


@letters_app.command("discard")
def discard(
    letter_id: int,
    reason: Annotated[str, typer.Option(help="Why no action is needed (kept with the letter)")],
    database_url: DatabaseUrl = None,
) -> None:
    """Close a dead letter that needs no action; it is kept, with the reason."""
    clinic, feed = _letters(database_url)
    try:
        feed.discard_dead_letter(letter_id, reason)
    finally:
        clinic.database.close()
    typer.echo(f"{letter_id}: discarded")
