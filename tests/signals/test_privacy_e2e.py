"""End to end, no server: raw secrets typed into a tracked region never reach any file of the data folder."""

from __future__ import annotations

import random
import string

from editloop.capture.clock import ManualClock
from editloop.capture.service import CaptureService
from editloop.settings import Settings
from editloop.store import Store

rng = random.Random(7)
B64 = string.ascii_letters + string.digits + "+/"


def rand(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


AWS_ID = "AKIA" + rand(string.ascii_uppercase + string.digits, 16)
AWS_SECRET = rand(B64, 40)
KEY_BODY = [rand(B64, 64) for _ in range(6)]
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(KEY_BODY) + "\n-----END RSA PRIVATE KEY-----"
GITHUB = "ghp_" + rand(string.ascii_letters + string.digits, 36)
PASSWORD = "Pw" + rand(string.ascii_letters + string.digits, 14)
RAW = [AWS_ID, AWS_SECRET, GITHUB, PASSWORD, *KEY_BODY]

REGION = (
    "def client():\n"
    f'    aws_access_key_id = "{AWS_ID}"\n'
    f'    aws_secret_access_key = "{AWS_SECRET}"\n'
    f'    key = """{PRIVATE_KEY}"""\n'
    "    return connect(aws_access_key_id, aws_secret_access_key, key)\n"
)
DOC = "import boto3\n\n" + REGION + "\nprint('done')\n"


def leaked(home) -> list[str]:
    found = []
    files = [p for p in home.iterdir() if p.is_file()]
    assert any(p.name == "feedback.db" for p in files)
    for p in files:  # feedback.db, feedback.db-wal, feedback.db-shm
        data = p.read_bytes()
        for secret in RAW:
            if secret.encode() in data:
                found.append(f"{p.name}: {secret[:8]}...")
    return found


def test_secrets_never_reach_the_data_folder(tmp_path):
    store = Store.open(tmp_path)
    clock = ManualClock(1_700_000_000.0)
    svc = CaptureService(store, Settings(), clock=clock)
    uri = "file:///work/app/client.py"
    svc.open(uri, DOC, language_id="python")
    region_lines = REGION.count("\n")
    row = svc.track(
        uri,
        (2, 0, 2 + region_lines, 0),
        prompt=f"write a boto3 client; my key is {AWS_ID}",
        model="m",
        artifact_type="python",
    )
    assert "[SECRET:aws-access-key]" in row["original"]
    assert "[SECRET:private-key]" in row["original"]
    # A second region stays pending: its last known text is saved (save_positions path).
    svc.change(uri, [((2 + region_lines, 0, 2 + region_lines, 0), f"TOKEN = \"{GITHUB}\"\n")])
    second = svc.track(uri, (2 + region_lines, 0, 3 + region_lines, 0), prompt="", model="m", artifact_type="python")
    # The user edits the first region: adds a password and a token.
    svc.change(uri, [((3, 0, 3, 0), f'    db_password = "{PASSWORD}"\n    gh = "{GITHUB}"\n')])
    svc.flush_positions()
    pending = store.get_region(second["id"])
    assert pending["status"] == "pending" and "[SECRET:github-token]" in pending["current"]
    assert leaked(tmp_path) == []

    event = svc.accept(row["id"])
    assert event["action"] == "edit"
    saved = store.get_event(event["id"])
    for column in ("prompt", "original", "final", "edit_spans"):
        for secret in RAW:
            assert secret not in (saved[column] or ""), column
    assert "[SECRET:password]" in saved["final"] and "[SECRET:github-token]" in saved["final"]
    assert saved["redactions"] >= 5
    assert leaked(tmp_path) == []

    clock.advance(3600)
    svc.tick()  # survival checks and the implicit resolution of the pending region
    svc.close(uri)
    store.close()
    assert leaked(tmp_path) == []


def test_the_search_finds_secrets_when_redaction_is_off(tmp_path):
    """Control: the byte search above would see a secret that reached the disk."""
    store = Store.open(tmp_path, redact_secrets=False)
    svc = CaptureService(store, Settings(), clock=ManualClock(1_700_000_000.0))
    uri = "file:///work/app/client.py"
    svc.open(uri, DOC, language_id="python")
    svc.track(uri, (2, 0, 2 + REGION.count("\n"), 0), prompt="", model="m", artifact_type="python")
    store.close()
    assert leaked(tmp_path)


def test_a_rejected_region_with_a_secret_typed_in_leaks_nothing(tmp_path):
    store = Store.open(tmp_path)
    svc = CaptureService(store, Settings(), clock=ManualClock(1_700_000_000.0))
    uri = "file:///work/app/settings.py"
    svc.open(uri, "x = 1\ny = 2\n", language_id="python")
    row = svc.track(uri, (0, 0, 1, 0), prompt="", model="m", artifact_type="python")
    svc.change(uri, [((0, 5, 0, 5), f'  # {GITHUB} password = "{PASSWORD}"')])
    event = svc.reject(row["id"])
    saved = store.get_event(event["id"])
    assert saved["action"] == "reject"
    assert GITHUB not in (saved["edit_spans"] or "") and GITHUB not in saved["final"]
    store.close()
    assert leaked(tmp_path) == []
