"""ServerSession.wait_run against a fake run: a progress file written by the test and a fake
cancel, no server. A slow run is waited for past any deadline; a silent one is cancelled with a
message saying where it was; an interrupted wait cancels the run before it propagates."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from editloop.simulate.session import ServerSession
from editloop.training.progress import RunStalled

RUN = "20261202-120000-abcdef"


def fake_session(tmp_path) -> tuple[ServerSession, list[str]]:
    session = ServerSession(tmp_path, env={"EDITLOOP_HOME": str(tmp_path)})
    cancelled: list[str] = []

    async def cancel_run(run_id: str, **_: object) -> str:
        cancelled.append(run_id)
        return "cancelled"

    session.cancel_run = cancel_run  # type: ignore[method-assign]
    session.server_alive = lambda: True  # type: ignore[method-assign]
    return session, cancelled


def write(tmp_path, event: dict) -> None:
    folder = tmp_path / "runs" / RUN
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "progress.jsonl", "a") as f:
        f.write(json.dumps({"runId": RUN, **event}) + "\n")


def step(n: int) -> dict:
    return {"type": "progress", "phase": "training", "stage": "sft", "step": n, "maxSteps": 40, "percentage": 2 + 2 * n, "loss": 0.5}


async def test_a_run_progressing_slowly_is_waited_for_past_any_deadline(tmp_path):
    session, cancelled = fake_session(tmp_path)
    seen: list[dict] = []

    async def worker():  # 12 events 0.1 s apart: 1.2 s, three times the stall timeout
        for n in range(1, 13):
            await asyncio.sleep(0.1)
            write(tmp_path, step(n))
        session._notified("editloop/runFinished", SimpleNamespace(runId=RUN, status="succeeded"))

    task = asyncio.create_task(worker())
    finished = await session.wait_run(RUN, stall_timeout=0.4, on_progress=seen.append, poll=0.02)
    await task
    assert finished == {"runId": RUN, "status": "succeeded"}
    assert [e["step"] for e in seen] == list(range(1, 13))
    assert cancelled == []


async def test_a_silent_run_is_cancelled_and_the_message_says_where_it_was(tmp_path):
    session, cancelled = fake_session(tmp_path)
    write(tmp_path, {"type": "status", "phase": "measuring the base model", "done": 0, "total": 12, "percentage": 1})
    write(tmp_path, step(24))
    with pytest.raises(RunStalled) as err:
        await session.wait_run(RUN, stall_timeout=0.3, poll=0.02)
    assert str(err.value).startswith(f"no progress from run {RUN} for 0 s (last: phase training SFT, step 24/40)")
    assert str(err.value).endswith("; cancelled it")
    assert cancelled == [RUN]


async def test_an_interrupted_wait_cancels_the_run(tmp_path):
    session, cancelled = fake_session(tmp_path)
    write(tmp_path, step(1))
    wait = asyncio.create_task(session.wait_run(RUN, poll=0.02))
    await asyncio.sleep(0.2)
    wait.cancel()  # what asyncio.run does with the main task on Ctrl-C
    with pytest.raises(asyncio.CancelledError):
        await wait
    assert cancelled == [RUN]


async def test_the_server_exiting_ends_the_wait_and_cancels_the_run(tmp_path):
    session, cancelled = fake_session(tmp_path)
    session.server_alive = lambda: False  # type: ignore[method-assign]
    session.stderr_tail = ["Killed"]
    with pytest.raises(Exception, match=f"the language server exited while run {RUN} was running \\(Killed\\)"):
        await session.wait_run(RUN, poll=0.02)
    assert cancelled == [RUN]
