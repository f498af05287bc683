from __future__ import annotations

import os
import random
import stat
import time

from editloop.capture.outcomes import record_outcome
from editloop.store import Store
from editloop.store.stats import stats


def _region(store: Store, i: int, artifact: str, uri: str = "file:///a") -> dict:
    return store.insert_region({"uri": uri, "artifact_type": artifact, "prompt": f"p{i}", "original": f"original text {i}", "model": "m" if i % 2 else "n"})


def test_rollup_stats_match_a_direct_aggregate_through_inserts_and_forget(tmp_path):
    store = Store.open(tmp_path)
    rng = random.Random(3)
    now = time.time()
    for i in range(120):
        art = rng.choice(["sql", "mermaid-erd"])
        reg = _region(store, i, art, uri=f"file:///{i % 4}")
        r = rng.random()
        final = None if r < 0.3 else reg["original"] if r < 0.6 else reg["original"] + " edited" * rng.randint(1, 5)
        record_outcome(store, reg, final=final, now=now - rng.random() * 5 * 86400)
    store.forget(uri="file:///1")

    def direct():
        c = store.db.conn
        out = {}
        for at, action, n in c.execute("SELECT artifact_type, action, COUNT(*) FROM events GROUP BY 1, 2"):
            out.setdefault(at, {})[action] = n
        avg = c.execute("SELECT AVG(similarity), AVG(reward) FROM events").fetchone()
        dist = c.execute("SELECT AVG(edit_distance) FROM events WHERE action != 'reject'").fetchone()[0]
        return out, avg, dist

    s = stats(store.db)
    by_type, (sim, rew), dist = direct()
    for at, counts in by_type.items():
        for action, n in counts.items():
            assert s["byArtifactType"][at][action] == n
    assert s["total"] == sum(sum(c.values()) for c in by_type.values()) == 90
    assert abs(s["meanSimilarity"] - sim) < 1e-3 and abs(s["meanReward"] - rew) < 1e-3
    assert sum(s["rewardHistogram"]["counts"]) == s["total"]
    days_total = sum(d["events"] for d in s["daily"])
    assert days_total == s["total"]
    weighted = sum(d["meanEditDistance"] * (d["accept"] + d["edit"]) for d in s["daily"] if d["meanEditDistance"] is not None)
    assert abs(weighted / sum(d["accept"] + d["edit"] for d in s["daily"]) - dist) < 0.2
    store.forget(everything=True)
    s = stats(store.db)
    assert s["total"] == 0 and store.db.conn.execute("SELECT COUNT(*) FROM stats_rollup").fetchone()[0] == 0


def test_data_folder_and_files_are_private(tmp_path):
    home = tmp_path / "home"
    store = Store.open(home)
    _region(store, 1, "sql")
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    for f in home.iterdir():
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f


def test_two_connections_writing_lose_and_duplicate_nothing(tmp_path):
    a, b = Store.open(tmp_path), Store.open(tmp_path)
    regions = [_region(a, i, "sql") for i in range(20)]
    for i, reg in enumerate(regions):  # both "windows" resolve every region; exactly one event each
        for store in (a, b) if i % 2 else (b, a):
            record_outcome(store, reg, final=reg["original"], now=time.time())
    assert a.db.conn.execute("SELECT COUNT(*), COUNT(DISTINCT region_id) FROM events").fetchone() == (20, 20)


def test_per_model_statistics_compare_versions(tmp_path):
    store = Store.open(tmp_path)
    now = time.time()
    for version, extra in (("base", " edited" * 8), ("run-2", " e")):
        for i in range(6):
            reg = store.insert_region({"uri": "file:///m", "artifact_type": "sql", "prompt": "p", "original": f"CREATE TABLE t{i} (id int);", "model": "tiny", "model_version": version})
            record_outcome(store, reg, final=reg["original"] + extra, now=now)
            now += 1
    s = stats(store.db)
    assert [m["modelVersion"] for m in s["byModel"]] == ["base", "run-2"]
    comp = s["modelComparison"]
    assert comp["editReduction"] == round(1 - 2 / 56, 4)
    assert comp["summary"] == "tiny run-2 needs 96% fewer edits than tiny base"


def test_read_only_and_full_database_give_clear_errors_and_lose_nothing(tmp_path):
    import pytest

    from editloop.errors import EditloopError

    store = Store.open(tmp_path)
    kept = [_region(store, i, "sql") for i in range(3)]
    record_outcome(store, kept[0], final="x", now=time.time())
    store.db.conn.execute("PRAGMA query_only = ON")  # what a read-only file system looks like to SQLite
    with pytest.raises(EditloopError, match="read-only.*nothing was recorded"):
        _region(store, 9, "sql")
    store.db.conn.execute("PRAGMA query_only = OFF")
    pages = store.db.conn.execute("PRAGMA page_count").fetchone()[0]
    store.db.conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # a full disk
    with pytest.raises(EditloopError, match="full"):
        for i in range(1000):
            reg = store.insert_region({"uri": "file:///big", "artifact_type": "sql", "original": "y" * 5000 + str(i)})
    conn = store.db.conn
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
    assert {r["id"] for r in kept} <= {row[0] for row in conn.execute("SELECT id FROM regions")}


def test_a_damaged_database_is_refused_once_clearly_and_left_byte_identical(tmp_path):
    import pytest

    from editloop.store.db import DatabaseDamaged, check_integrity

    from .damage import corrupt_interior_page, database_with_events

    file = database_with_events(tmp_path / "home")
    assert check_integrity(file) == []
    corrupt_interior_page(file)
    before = file.read_bytes()
    with pytest.raises(DatabaseDamaged) as err:
        Store.open(tmp_path / "home")
    msg = str(err.value)
    assert str(file) in msg and "damaged" in msg and "editloop --data-dir" in msg and "doctor --fresh-db" in msg
    assert "\n" not in msg
    assert file.read_bytes() == before
    wal = tmp_path / "home" / "feedback.db-wal"  # the read-only check may leave an empty WAL, never a frame
    assert not wal.exists() or wal.stat().st_size == 0


def test_existing_folders_and_files_keep_their_mode(tmp_path, monkeypatch, caplog):
    from editloop.paths import data_dir, ensure_private_dir

    monkeypatch.delenv("EDITLOOP_HOME", raising=False)
    shared = tmp_path / "shared"  # like /tmp: world-writable, sticky
    shared.mkdir()
    os.chmod(shared, 0o1777)
    project = tmp_path / "project"  # someone's project folder
    project.mkdir()
    (project / "README.md").write_text("mine")
    os.chmod(project, 0o755)
    with caplog.at_level("WARNING", logger="editloop.paths"):
        for folder in (shared, project):
            home = data_dir(str(folder))
            assert home == folder / "editloop"
            assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
            Store.open(home).close()
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777
    assert stat.S_IMODE(os.stat(project).st_mode) == 0o755
    assert sorted(p.name for p in project.iterdir()) == ["README.md", "editloop"]
    assert sum("keeps its data in" in r.getMessage() for r in caplog.records) == 2
    # An empty folder, or one that already holds feedback.db, is used as it is, and keeps its mode.
    empty = tmp_path / "empty"
    empty.mkdir(mode=0o750)
    os.chmod(empty, 0o750)
    assert data_dir(str(empty)) == empty
    Store.open(empty).close()
    assert data_dir(str(empty)) == empty and stat.S_IMODE(os.stat(empty).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(empty / "feedback.db").st_mode) == 0o600  # created by Editloop
    os.chmod(empty / "feedback.db", 0o640)  # the user's choice for an existing file is kept
    Store.open(empty).close()
    assert stat.S_IMODE(os.stat(empty / "feedback.db").st_mode) == 0o640
    runs = ensure_private_dir(empty / "runs")
    assert stat.S_IMODE(os.stat(runs).st_mode) == 0o700
    os.chmod(runs, 0o755)
    ensure_private_dir(runs)
    assert stat.S_IMODE(os.stat(runs).st_mode) == 0o755
