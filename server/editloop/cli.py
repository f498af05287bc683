"""The command line: parse, call the core, print. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from . import __version__
from .errors import EditloopError

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    def deco(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = fn
        return fn

    return deco


def _store(args: argparse.Namespace):
    from .store import Store

    return Store.open(home_setting=getattr(args, "data_dir", None))


@command("serve")
def cmd_serve(args: argparse.Namespace) -> int:
    from .lsp.server import serve

    serve(manual_clock=args.manual_clock)
    return 0


@command("stats")
def cmd_stats(args: argparse.Namespace) -> int:
    from .store.stats import stats

    store = _store(args)
    data = stats(store.db, artifact_type=args.artifact_type)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(format_stats(data, store))
    return 0


def format_stats(data: dict[str, Any], store: Any = None, *, recent: int = 5) -> str:
    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.0%}"

    lines = []
    if store is not None:
        lines.append(f"data: {store.path}")
    c = data["counts"]
    lines.append(
        f"events: {data['total']}  (accept {c['accept']}, edit {c['edit']}, reject {c['reject']})  "
        f"pending regions: {data['pending']}  lost: {data['lost']}"
    )
    lines.append(
        f"accept rate: {pct(data['acceptRate'])}  mean similarity: {data['meanSimilarity'] if data['meanSimilarity'] is not None else '-'}  "
        f"mean reward: {data['meanReward'] if data['meanReward'] is not None else '-'}"
    )
    if data["byArtifactType"]:
        lines.append("")
        lines.append(f"{'artifact type':<20} {'total':>6} {'accept':>7} {'edit':>6} {'reject':>7} {'accept rate':>12}")
        for at, e in sorted(data["byArtifactType"].items()):
            lines.append(f"{at:<20} {e['total']:>6} {e['accept']:>7} {e['edit']:>6} {e['reject']:>7} {pct(e['acceptRate']):>12}")
    if store is not None and data["total"]:
        lines.append("")
        lines.append(f"recent events (newest {recent}):")
        from .store import events

        for ev in events.latest(store, recent):
            lines.append(f"  #{ev.id} {ev.action:<6} {ev.source:<8} {ev.artifact_type:<14} similarity {ev.similarity:.2f}  reward {ev.reward:.2f}")
            if ev.action == "edit":
                lines.append("    original: " + _one_line(ev.original))
                lines.append("    final:    " + _one_line(ev.final))
    if data["recentRuns"]:
        lines.append("")
        lines.append("recent runs:")
        for r in data["recentRuns"]:
            lines.append(f"  {r['id']} {r['method']:<4} {r['status']:<10}{' promoted' if r['promoted'] else ''}")
    return "\n".join(lines)


def _one_line(text: str, width: int = 100) -> str:
    s = text.replace("\n", "⏎ ")
    return s if len(s) <= width else s[: width - 1] + "…"


@command("forget")
def cmd_forget(args: argparse.Namespace) -> int:
    if not args.uri and not args.all:
        raise EditloopError("forget needs --uri URI or --all")
    store = _store(args)
    n = store.forget(uri=args.uri, everything=args.all)
    print(f"forgot {n} region(s){' for ' + args.uri if args.uri else ''}; the database was compacted")
    return 0


@command("bench")
def cmd_bench(args: argparse.Namespace) -> int:
    if args.which == "system" and args.base:
        raise EditloopError("--base is for `editloop bench learning` (the real-base tier)")
    if args.seeds < 1 or (args.seeds > 1 and (args.which == "system" or args.base)):
        raise EditloopError("--seeds is a positive number, for `editloop bench learning` (the embedded base's tier)")
    if args.which == "system":
        from .bench.system import run

        print(run(quick=args.quick))
        return 0
    if args.base:
        from .bench.learning_real import run as run_real  # noqa: PLC0415

        print(run_real(args.base, quick=args.quick))
        return 0
    from .bench.learning import run as run_learning  # noqa: PLC0415

    print(run_learning(quick=args.quick, seeds=args.seeds))
    return 0


def _home(args: argparse.Namespace):
    from .paths import data_dir

    return data_dir(getattr(args, "data_dir", None))


def train_settings(args: argparse.Namespace):
    """The settings ``editloop train`` runs with. The CLI cannot see an editor's settings, so it takes
    the same names from ``--setting NAME=VALUE`` (``--threads`` and ``--base-model`` are short for
    ``training.threads`` and ``training.baseModel`` and win), parsed by the same parser; the rest are
    the defaults, as in an editor where they were never set."""
    from .errors import InvalidArgument
    from .settings import parse_settings
    from .training.settings_map import RUN_SETTINGS

    raw: dict[str, Any] = {}
    for item in args.setting or []:
        name, sep, value = item.partition("=")
        name = name.strip().removeprefix("editloop.")
        if not sep or name not in RUN_SETTINGS:
            raise InvalidArgument(f"--setting takes NAME=VALUE, NAME one of {', '.join(RUN_SETTINGS)} (got {item!r})")
        raw[name] = value.strip()
    if args.threads is not None:
        raw["training.threads"] = args.threads
    if args.base_model:
        raw["training.baseModel"] = args.base_model
    return parse_settings(raw)


@command("train")
def cmd_train(args: argparse.Namespace) -> int:
    from .training.jobs import cancel_run, start_run, wait_run
    from .training.progress import ProgressPrinter, one_line
    from .training.settings_map import run_options

    home = _home(args)
    options = run_options(train_settings(args))  # the same mapping as Train now in the editor
    run_id = start_run(home, method=args.method, artifact_type=args.artifact_type, search=args.search, **options)
    print(f"run {run_id} started (Ctrl-C cancels it)", file=sys.stderr)
    bar = ProgressPrinter(sys.stderr)  # the demo shows Train now with the same bar
    try:
        status = wait_run(home, run_id, callback=bar, stall_timeout=args.stall_timeout or None)
    except KeyboardInterrupt:
        bar.close()
        print(f"cancelling {run_id} ...", file=sys.stderr)
        print(json.dumps(cancel_run(home, run_id)))
        return 130
    finally:
        bar.close()
    metrics = status.get("metrics") or {}
    print(json.dumps({"runId": run_id, "status": status["status"], "promoted": status["promoted"], "reason": status.get("reason"), "metrics": {k: v for k, v in metrics.items() if k != "curve"}}, indent=2))
    if status["status"] != "succeeded":
        why = status.get("error") or status.get("reason") or f"see {home / 'runs' / run_id / 'train.log'}"
        raise EditloopError(f"run {run_id} {status['status']}: {one_line(why)}")
    return 0


@command("runs")
def cmd_runs(args: argparse.Namespace) -> int:
    from .training.jobs import list_runs, recover

    store = _store(args)
    recover(store)
    runs = list_runs(store)
    if args.json:
        print(json.dumps(runs, indent=2, default=str))
        return 0
    if not runs:
        print("no runs yet: `editloop train` starts one")
    for r in runs:
        m = r.get("metrics") or {}
        val = m.get("valSimilarity")  # list_runs reads older names too (store.metrics)
        why = (r.get("error") or r.get("reason")) if r["status"] == "failed" else r.get("reason")
        print(f"{r['id']}  {r['method']:<5} {r['status']:<10} {'promoted' if r.get('promoted') else '        '}  "
              f"val similarity {val if val is not None else '-'}  {why or ''}")
    return 0


@command("promote")
def cmd_promote(args: argparse.Namespace) -> int:
    from .training.tracker import promote

    store = _store(args)
    run = promote(store, None if args.run == "base" else args.run, artifact_type=args.artifact_type)
    print(f"promoted {run.id}" if run else "the base model is in use again")
    return 0


@command("export")
def cmd_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .curation.exporter import export_to

    out = Path(args.output).expanduser().absolute() if args.output else None  # relative to the current folder
    path, n = export_to(_store(args), args.format, out, overwrite=args.force, overwrite_hint="pass --force",
                        artifact_type=args.artifact_type)
    print(f"wrote {n} rows to {path}")
    return 0


@command("export-model")
def cmd_export_model(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .training.export import export_run

    result = export_run(_store(args), args.run, Path(args.output).expanduser(), force=args.force)
    print(f"wrote {result['path']}: Modelfile (FROM {result['from']}), merged.gguf"
          + (", adapter.gguf" if result["adapterGguf"] else "") + ", adapter/")
    for note in result["notes"]:
        print(f"note: {note}")
    return 0


@command("doctor")
def cmd_doctor(args: argparse.Namespace) -> int:
    from .paths import data_dir
    from .store.doctor import diagnose, format_report, fresh_db

    home = data_dir(getattr(args, "data_dir", None), create=False)
    if args.fresh_db:
        moved, new = fresh_db(home)
        print("moved aside, unchanged: " + ", ".join(str(m) for m in moved))
        print(f"started a new database: {new}")
        return 0
    report = diagnose(home)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0 if report["ok"] else 1


@command("batch")
def cmd_batch(args: argparse.Namespace) -> int:
    from .curation import build_batch

    batch = build_batch(_store(args), artifact_type=args.artifact_type, method=args.method)
    print(json.dumps(batch.result()))
    return 0


@command("model")
def cmd_model(args: argparse.Namespace) -> int:
    from .training.base_model import build_base_model, stderr_progress

    out = build_base_model(args.output, seed=args.seed, preset=args.preset, threads=args.threads, progress=stderr_progress)
    print(f"built {out}")
    return 0


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(quick=args.quick, home=args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="editloop", description="Capture how you fix AI output; train a model on it.")
    p.add_argument("--version", action="version", version=f"editloop {__version__}")
    p.add_argument("--data-dir", metavar="DIR", help="the data folder (default: EDITLOOP_HOME, else the platform's user data "
                   "folder; demo: ./.editloop-demo); also accepted after the command")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the language server over stdio")
    s.add_argument("--stdio", action="store_true", help="accepted for LSP clients that pass it; stdio is the only transport")
    s.add_argument("--manual-clock", action="store_true", help="testing: time moves only through editloop.advanceClock")

    s = sub.add_parser("stats", help="events by action and artifact type, accept rate, recent edits")
    s.add_argument("--json", action="store_true", help="print JSON (the same object as the editloop.stats command)")
    s.add_argument("--artifact-type")

    s = sub.add_parser("forget", help="delete captured text and compact the database")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--uri", help="forget one document (its URI as the editor sends it)")
    g.add_argument("--all", action="store_true", help="forget everything")
    s = sub.add_parser("train", help="Train now: fine-tune on the captured events (a separate process; Ctrl-C cancels)")
    s.add_argument("--method", default="auto", choices=["auto", "sft", "dpo", "kto"])
    s.add_argument("--search", type=int, default=0, metavar="N", help="run N Optuna trials first")
    s.add_argument("--artifact-type")
    s.add_argument("--base-model", help="a Hugging Face id or folder (short for --setting training.baseModel=...; default: the embedded model)")
    s.add_argument("--threads", type=int, help="torch threads (short for --setting training.threads=N); 0, the default: idle cores, at most 4")
    s.add_argument("--setting", action="append", metavar="NAME=VALUE",
                   help="an editloop.* setting a training run reads, named as in the editor (repeatable; "
                        "training.settings_map.RUN_SETTINGS), e.g. --setting reward.halfLifeDays=7; unset: the default")
    s.add_argument("--stall-timeout", type=float, default=600, metavar="SECONDS",
                   help="cancel the run if it reports no progress for this long (0: never); there is no overall deadline")

    s = sub.add_parser("runs", help="list training runs")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("promote", help="make RUN the model that writes suggestions (`base` rolls back)")
    s.add_argument("run")
    s.add_argument("--artifact-type")

    s = sub.add_parser("export", help="write the dataset as JSONL")
    s.add_argument("--format", required=True, choices=["sft", "dpo", "kto", "openai"])
    s.add_argument("-o", "--output", help="the file to write (its folder must exist; not inside the data folder "
                   "except its exports/ folder); default: <data folder>/exports/<format>-<time>.jsonl")
    s.add_argument("--force", action="store_true", help="replace OUTPUT if it exists (it keeps its mode)")
    s.add_argument("--artifact-type")

    s = sub.add_parser("export-model", help="a run's model as GGUF files and an Ollama Modelfile")
    s.add_argument("run", metavar="RUN")
    s.add_argument("-o", "--output", required=True, metavar="DIR", help="a new folder (its parent must exist)")
    s.add_argument("--force", action="store_true", help="replace DIR if it is an earlier export holding nothing else")

    s = sub.add_parser("doctor", help="check the data folder and the database (integrity, schema, counts); exit 1 if damaged")
    s.add_argument("--json", action="store_true")
    s.add_argument("--fresh-db", action="store_true", help="only for a damaged database: move it aside "
                   "(feedback.db.corrupt-<time>, with -wal/-shm) and start a new one")

    s = sub.add_parser("batch", help="build and record a training batch")
    s.add_argument("--method", default="auto")
    s.add_argument("--artifact-type")

    s = sub.add_parser("model", help="build the embedded default base model")
    s.add_argument("action", choices=["build"])
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--preset", default="default", choices=["default", "tiny"])
    s.add_argument("--threads", type=int, default=1, help="torch threads (the shipped model: 2)")

    from .demo import FOLDER_HELP

    s = sub.add_parser("demo", help="the whole loop on the embedded model, in a real language-server session",
                       description="The whole loop on the embedded model, in a real language-server session. "
                                   f"The {FOLDER_HELP}. Ctrl-C cancels the training run it started.")
    s.add_argument("--quick", action="store_true", help="fewer events (a smoke test, a minute or two)")

    s = sub.add_parser("bench", help="run a benchmark and write its table into docs/benchmarks.md")
    s.add_argument("which", choices=["system", "learning"])
    s.add_argument("--quick", action="store_true", help="a short end-to-end run that proves the benchmark works (numbers not reported)")
    s.add_argument("--base", metavar="SPEC", default=None,
                   help="learning only: the real-base tier on this editloop.training.baseModel (a .gguf file, a folder, "
                        "or a preset such as smollm2-135m): one user, fewer events, every artifact type")
    s.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="learning only: run the users' loops with N seeds (0 .. N-1) and report the seed-to-seed spread "
                        "of the headline figures (each extra seed adds about 12 min on 2 cores)")
    _global_flags_after_commands(sub)
    return p


def _global_flags_after_commands(sub) -> None:
    """`editloop COMMAND --data-dir X` as well as `editloop --data-dir X COMMAND` (SUPPRESS: a flag
    given before the command is kept when it is not repeated after it)."""
    for name, parser in sub.choices.items():
        if "--data-dir" not in parser._option_string_actions:
            parser.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS,
                                help="the demo's data folder (default: EDITLOOP_HOME, else ./.editloop-demo)" if name == "demo"
                                else "the data folder (default: EDITLOOP_HOME, else the platform's user data folder)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import os

    before = os.environ.get("EDITLOOP_HOME")
    if args.data_dir:  # the data folder of this command (and of the processes it starts) only
        os.environ["EDITLOOP_HOME"] = args.data_dir
    try:
        return COMMANDS[args.cmd](args)
    except EditloopError as exc:
        print(f"editloop: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("editloop: interrupted", file=sys.stderr)
        return 130
    finally:  # main() called in-process (tests, scripts) must not change the caller's environment
        if before is None:
            os.environ.pop("EDITLOOP_HOME", None)
        else:
            os.environ["EDITLOOP_HOME"] = before
