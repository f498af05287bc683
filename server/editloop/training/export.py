"""Ship a run's model to the engines users run: llama.cpp, Ollama, LM Studio (GGUF) and PEFT.

``export_run(store, run_id, out, force=False)`` writes the folder ``out``:

- ``adapter/``: the run's output as is (a PEFT adapter, or the fine-tuned model of a tiny base),
  for transformers, PEFT and vLLM;
- ``adapter.gguf`` (LoRA runs): the adapter for llama.cpp and Ollama (``--lora``, ``ADAPTER``).
  Not written when the adapter also trained token embeddings (the tiny bases do: llama.cpp cannot
  apply those on tied embeddings); the result's ``notes`` say so;
- ``merged.gguf``: the whole model, float16: the LoRA merged into the base, or the fully
  fine-tuned model;
- ``Modelfile``: ``FROM`` the base's own GGUF file plus ``ADAPTER ./adapter.gguf`` when the base is
  a GGUF file or a preset and the adapter converted; otherwise ``FROM ./merged.gguf``. ``TEMPLATE``
  and ``PARAMETER stop`` come from the model's own chat template (:func:`.ollama.ollama_template`);
  relative paths are resolved by Ollama against the Modelfile's folder;
- ``editloop-export.json``: what Editloop wrote here. An existing ``out`` is replaced only when it
  holds this file and nothing else than what it lists, and only with ``force=True``.

The merged safetensors folder is an intermediate and is not kept: it is the float32 model (540 MB
for SmolLM2-135M), ``merged.gguf`` holds the same weights in float16, and ``adapter/`` on its base
serves transformers users. Everything is written into a temporary sibling of ``out`` and renamed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import EditloopError
from .artifacts import check_artifact

if TYPE_CHECKING:
    from ..store.runs import Run

MARKER = "editloop-export.json"


def merge(adapter_path: str | Path, base_model: str, out: str | Path) -> Path:
    """Write a standalone model folder (safetensors + tokenizer) for an adapter or full model."""
    from .artifacts import load_model

    out = Path(out)
    model, tokenizer = load_model(adapter_path, base_model)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def export_run(store, run_id: str, out: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Export a succeeded run into the new folder ``out`` (see the module docstring); returns what
    was written. Nothing is half-written on error, and nothing Editloop did not write is replaced."""
    from .jobs import get_run

    run = get_run(store, run_id)
    if run.status != "succeeded" or not run.adapter_path:
        raise EditloopError(f"run {run_id} is {run.status}: nothing to export")
    adapter = Path(run.adapter_path)
    kind = check_artifact(adapter)
    out = Path(out).absolute()
    old_files = _check_target(out, force)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        result = _write_export(tmp, run, adapter, kind)
        (tmp / MARKER).write_text(json.dumps({"runId": run_id, "kind": kind, "files": sorted(result["files"])},
                                             indent=2) + "\n")
        _replace(tmp, out, old_files)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"runId": run_id, "path": str(out), "kind": kind, "adapter": str(out / "adapter"),
            "adapterGguf": str(out / "adapter.gguf") if "adapter.gguf" in result["files"] else None,
            "mergedGguf": str(out / "merged.gguf"), "modelfile": str(out / "Modelfile"),
            "from": result["from"], "notes": result["notes"]}


def _write_export(tmp: Path, run: Run, adapter: Path, kind: str) -> dict[str, Any]:
    from . import base_source
    from .gguf_write import AdapterNotConvertible, write_lora_gguf, write_model_gguf
    from .ollama import modelfile

    notes: list[str] = []
    source = base_source.describe(run.base_model)
    shutil.copytree(adapter, tmp / "adapter")
    merged = merge(adapter, run.base_model, tmp / "merged")
    info = Path(base_source.resolve(run.base_model)) / base_source.SOURCE_INFO
    if info.exists():  # a GGUF base: its own tokenizer metadata goes into merged.gguf
        shutil.copy2(info, merged / base_source.SOURCE_INFO)
    write_model_gguf(merged, tmp / "merged.gguf")
    files = ["adapter", "merged.gguf", "Modelfile"]
    if kind == "lora":
        try:  # the merged folder has the base's config (head counts for the q/k permutation)
            write_lora_gguf(adapter, tmp / "adapter.gguf", base_dir=merged)
            files.append("adapter.gguf")
        except AdapterNotConvertible as exc:
            notes.append(f"no adapter.gguf: {exc}; the Modelfile uses merged.gguf")
    template, stops = _ollama_template(merged, notes)
    shutil.rmtree(merged)
    base_gguf = source.path if source.is_gguf and "adapter.gguf" in files else None
    (tmp / "Modelfile").write_text(modelfile(base_gguf=base_gguf, template=template, stops=stops))
    return {"files": files, "notes": notes, "from": str(base_gguf) if base_gguf else "./merged.gguf"}


def _ollama_template(folder: Path, notes: list[str]) -> tuple[str | None, list[str]]:
    """The TEMPLATE and stops for the saved tokenizer in ``folder`` (read without transformers); a
    chat template they cannot be derived from leaves them out (Ollama then matches the GGUF's
    own template against the ones it knows), with a note."""
    from .ollama import ollama_template

    config = json.loads((folder / "tokenizer_config.json").read_text())
    template = config.get("chat_template")
    if template is None and (folder / "chat_template.jinja").exists():
        template = (folder / "chat_template.jinja").read_text()
    if not isinstance(template, str) or not template:
        raise EditloopError(f"the model in {folder} has no chat template (Editloop trains chat models)")

    def token(name: str) -> str:
        value = config.get(name) or ""
        return value.get("content", "") if isinstance(value, dict) else str(value)

    try:
        return ollama_template(template, bos_token=token("bos_token"), eos_token=token("eos_token"))
    except EditloopError as exc:
        notes.append(f"no TEMPLATE in the Modelfile: {exc}")
        return None, []


def _check_target(out: Path, force: bool) -> list[str] | None:
    """None for a new folder; for an earlier export that may be replaced, the names it holds."""
    if not out.parent.is_dir():
        raise EditloopError(f"folder {out.parent} does not exist")
    if not out.exists() and not out.is_symlink():
        return None
    marker = out / MARKER
    if out.is_symlink() or not out.is_dir() or not marker.is_file():
        raise EditloopError(f"{out} exists and is not an Editloop export: choose a new folder")
    try:
        listed = set(json.loads(marker.read_text())["files"]) | {MARKER}
    except (OSError, ValueError, KeyError, TypeError):
        raise EditloopError(f"{marker} is unreadable: {out} is left as it is; choose a new folder") from None
    if not force:
        raise EditloopError(f"{out} holds an earlier export: pass --force (force=True) to replace it")
    present = {p.name for p in out.iterdir()}
    if present - listed:
        raise EditloopError(f"{out} also holds files Editloop did not write ({', '.join(sorted(present - listed))}); "
                            "move them out or choose a new folder")
    return sorted(present)


def _replace(tmp: Path, out: Path, old_files: list[str] | None) -> None:
    """Rename ``tmp`` to ``out``; an earlier export is moved aside first and removed after."""
    if old_files is None:
        os.rename(tmp, out)  # fails rather than replaces if out appeared meanwhile
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    os.rename(out, aside / "export")
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(aside / "export", out)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)
