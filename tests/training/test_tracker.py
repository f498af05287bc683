"""Validation metrics of what generation serves (editloop.generation.retryInvalid): an output the
validator rejects counts as the base model's output for that prompt."""

from __future__ import annotations

from transformers import PreTrainedTokenizerFast
from tokenizers import Tokenizer, models, pre_tokenizers

from editloop.training.data import Target
from editloop.training.tracker import GenerationEvaluator, selection_score

GOOD = "CREATE TABLE customer (id uuid PRIMARY KEY);"
NEAR_BROKEN = "CREATE TABLE customer (id uuid PRIMARY KEY"  # one character short of the user's text, invalid
BASE = "CREATE TABLE customer (id INT);"


def _tokenizer():
    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok)


class Scripted(GenerationEvaluator):
    """The real scoring with scripted outputs in place of a model's generations."""

    def generate(self, model, on_progress=None) -> list[str]:
        return list(model)


def test_invalid_outputs_count_as_the_base_models_once_a_fallback_is_set():
    # the fallback's similarity is kept with it: the served similarity is computed from it, not again
    targets = [Target([{"role": "user", "content": f"spec {i}"}], GOOD, "sql") for i in range(4)]
    ev = Scripted(targets, _tokenizer())
    base = ev.evaluate([BASE] * 4, as_fallback=True)
    assert base["validity"] == 1.0 and "replaced" not in base
    assert [(o, v) for o, _, v in ev.fallback] == [(BASE, True)] * 4
    tuned = ev.evaluate([GOOD, GOOD, GOOD, NEAR_BROKEN])
    assert tuned["replaced"] == 1 and tuned["rawValidity"] == 0.75 and tuned["validity"] == 1.0
    # the invalid output is scored as the base's text, which is further from the user's
    assert tuned["rawSimilarity"] > tuned["similarity"] > base["similarity"]
    assert abs(tuned["similarity"] - (3 * 1.0 + base["similarity"]) / 4) < 1e-9
    # without the fallback the same outputs rank below every valid checkpoint (validity first)
    raw = Scripted(targets, _tokenizer()).evaluate([GOOD, GOOD, GOOD, NEAR_BROKEN])
    assert raw["validity"] == 0.75 and "replaced" not in raw
    assert selection_score(raw["similarity"], raw["validity"], 1.0) < selection_score(base["similarity"], 1.0, 1.0)
    assert selection_score(tuned["similarity"], tuned["validity"], 1.0) > selection_score(base["similarity"], 1.0, 1.0)
