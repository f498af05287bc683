"""All signals of one event, computed from plain values (no database, no server).

:func:`score_event` fills the ``events`` columns that describe the outcome's quality:

==================== ==========================================================================
similarity           normalized Levenshtein of original vs final (0..1)
indel_similarity     normalized Indel (insertions/deletions only) (0..1)
bleu, chrf           sacrebleu sentence BLEU / chrF of original (hypothesis) vs final (0..100)
edit_spans           JSON of the changed line ranges and character spans (``similarity.py``)
validation           0..100 validity of the text kept as the outcome (final for accept/edit, the
                     rejected original for reject), ``None`` when no parser applies
validation_messages  JSON list ``[{line, column, message}]`` for that text, ``None`` when unknown
reward               0..1, ``reward.py``; its validity term is the validity of the *original*
==================== ==========================================================================

``embedding_similarity`` is not computed here: it needs a model that must not load on the server's
event loop; ``editloop.store.backfill`` fills it later, in a subprocess.

Cost on a 2 KB edited pair: ~0.5-1 ms for code (see ``editloop.bench.signals_bench``); a Mermaid diagram
adds mmdr's parse and layout (~1-7 ms for 10-30 lines), done once per distinct text (cached).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from .overlap import bleu, chrf
from .reward import reward
from .similarity import edit_spans_json, indel_similarity, similarity
from .validate import Validation, validate


def score_event(
    original: str,
    final: str,
    *,
    action: str,
    artifact_type: str = "",
    language: str | None = None,
    seconds_to_resolve: float | None = None,
    retention: Sequence[float] = (),
    validate_texts: bool = True,
) -> dict[str, Any]:
    """Return the ``events`` columns that describe the outcome's quality (see the module docstring)."""
    sim = similarity(original, final)
    if validate_texts:
        v_original = validate(original, artifact_type, language)
        kept = v_original if action == "reject" or final == original else validate(final, artifact_type, language)
    else:
        v_original = kept = Validation(None, [], "none")
    return {
        "similarity": round(sim, 6),
        "indel_similarity": round(indel_similarity(original, final), 6),
        "bleu": round(bleu(original, final), 4),
        "chrf": round(chrf(original, final), 4),
        "edit_spans": edit_spans_json(original, final),
        "validation": kept.score,
        "validation_messages": _messages_json(kept),
        "reward": reward(
            action,
            sim,
            validity=v_original.score,
            seconds_to_resolve=seconds_to_resolve,
            retention=retention,
        ),
    }


def _messages_json(v: Validation) -> str | None:
    if v.score is None and not v.messages:
        return None
    return json.dumps(v.messages, ensure_ascii=False, separators=(",", ":"))
