"""``build_batch``: events in SQLite -> one recorded training batch of TRL rows.

``build_batch`` runs these steps in order, one function each (each component switchable in
:class:`CurationConfig`):

1. ``_load``: eligible events without their texts (lost regions never), near-identical prompts
   grouped; texts are read later only for the events in use (candidates, validation, recent failures);
2. ``_split``: the stable train/validation split (:mod:`.split`); the train pool, train-side
   events that yield rows for the method, in which events no succeeded run has trained on yet are
   *fresh* and come first (earlier ones only refill a small batch); validation deduplicated, capped;
3. ``_size``: the batch size (``adaptive_batch``, :mod:`.batchsize`);
4. ``_choose_events``: the candidates (:func:`.active.prefilter`), exact and near duplicates out
   (``dedupe``), the choice (``active``, k-center greedy), then the replayed events (``replay``);
5. ``_hard_negatives`` (``hard_negatives``): members of the top failure clusters get a reserved
   share of the batch (their negative rows are repeated ``hard_negative_oversample`` times in 6);
6. ``_rows``: rows for SFT, DPO (``cross_pairs`` adds cross-event pairs) and KTO, with weights
   (``weights``) and a difficulty on every row;
7. ``_augment`` (``augmentation``): synthetic variants appended to train;
8. ``_order_and_check_leakage``: rows ordered easy -> hard (``curriculum``), and the leakage check
   (raises); then the batch and its rows are recorded in ``batches`` / ``batch_rows`` so a run can
   name the exact data it used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..errors import InvalidArgument
from ..store import Store, batches
from ..store import events as event_table
from . import active
from .augment import variants
from .batchsize import batch_size, recent_metric, trend_score
from .config import CurationConfig
from .curriculum import Curriculum, difficulties
from .dedupe import check_leakage, dedupe
from .events import Ev, fill_texts, load_events, normalize_prompt, stable_hash
from .format import assistant, messages
from .groups import assign_groups
from .hardneg import cluster_failures, hard_negative_ids, is_failure
from .record import new_batch_id, record_batch
from .rows import METHODS, Meta, Row, build_rows, positive_text
from .split import TRAIN, VALIDATION, assign_splits

METHOD_CHOICES = ("auto",) + METHODS
Rows = dict[str, list[tuple[Row, Meta]]]  # method -> (TRL row, its metadata)


@dataclass
class Batch:
    id: str
    artifact_type: str | None
    method: str
    recommended_method: str
    components: list[str]
    train: dict[str, list[Row]]
    val: dict[str, list[Row]]
    train_meta: dict[str, list[Meta]]
    val_meta: dict[str, list[Meta]]
    kto_weights: dict[str, float]
    size: int
    size_parts: dict[str, float]
    info: dict[str, Any]
    config: CurationConfig = field(repr=False)

    def counts(self) -> dict[str, int]:
        """Train rows per method, and the number of validation events."""
        val_events = {m["event_id"] for metas in self.val_meta.values() for m in metas}
        return {"sft": len(self.train["sft"]), "dpo": len(self.train["dpo"]), "kto": len(self.train["kto"]), "val": len(val_events)}

    def result(self) -> dict[str, Any]:
        """What ``editloop.buildBatch`` answers."""
        return {"batchId": self.id, "counts": self.counts()}

    def weights(self, method: str, split: str = "train") -> list[float]:
        metas = self.train_meta if split == "train" else self.val_meta
        return [m["weight"] for m in metas[method]]

    def curriculum(self, method: str) -> Curriculum:
        """Easy -> hard stages over this batch's train rows for ``method``; ask it which rows now."""
        c = self.config
        return Curriculum(self.train[method], [m["difficulty"] for m in self.train_meta[method]],
                          stages=c.curriculum_stages if c.curriculum else 1, patience=c.curriculum_patience,
                          min_delta=c.curriculum_min_delta, higher_is_better=c.trend_higher_is_better)

    def dataset(self, method: str, split: str = "train"):
        """A ``datasets.Dataset`` with TRL's columns only (imports ``datasets``)."""
        from datasets import Dataset

        rows = self.train[method] if split == "train" else self.val[method]
        return Dataset.from_list(rows)


def _useful(ev: Ev, method: str) -> bool:
    """Cheap test whether ``ev`` can give a row for ``method`` (rows.py decides exactly)."""
    if method == "sft":
        return ev.action != "reject" or ev.rewritten
    if method == "dpo":
        return ev.action != "accept"
    return True


def _cap_validation(events: list[Ev], per_type: int) -> list[Ev]:
    """At most ``per_type`` validation events per artifact type, chosen by a hash of the event id:
    the subset only changes when a new event hashes below the current ones, so runs stay comparable."""
    by_type: dict[str, list[Ev]] = {}
    for ev in events:
        by_type.setdefault(ev.artifact_type, []).append(ev)
    keep: set[int] = set()
    for evs in by_type.values():
        evs.sort(key=lambda e: stable_hash(f"val:{e.id}"))
        keep.update(e.id for e in evs[:per_type])
    return [ev for ev in events if ev.id in keep]


def _choose(cands: list[Ev], k: int, config: CurationConfig, uncertainty_fn, store, dd: dict[str, int]) -> tuple[list[Ev], dict]:
    def row_of(ev: Ev) -> dict:
        text = positive_text(ev, config) or ev.original
        return {"prompt": messages(ev.artifact_type, ev.prompt, ev.language), "completion": assistant(text)}

    pre = fill_texts(store, active.prefilter(cands, config))
    if config.dedupe:
        pre, removed = dedupe(pre, near=True)
        for key, n in removed.items():
            dd[key] += n
    return active.select(pre, k, config, uncertainty_fn=uncertainty_fn, row_of=row_of, store=store)


def _add_hard_negatives(chosen: list[Ev], pool: list[Ev], hard: set[int], quota: int) -> list[Ev]:
    have = {ev.id for ev in chosen}
    n_hard = sum(1 for ev in chosen if ev.id in hard)
    extra = sorted((ev for ev in pool if ev.id in hard and ev.id not in have), key=lambda e: (-e.ts, -e.id))
    extra = extra[: max(0, quota - n_hard)]
    if not extra:
        return chosen
    keep = list(chosen)
    for ev in extra:  # replace the last-chosen ordinary events
        for i in range(len(keep) - 1, -1, -1):
            if keep[i].id not in hard:
                keep.pop(i)
                break
        else:
            break
        keep.append(ev)
    return keep


def _oversample(rows: list[tuple[Row, Meta]], hard: set[int], copies: int) -> list[tuple[Row, Meta]]:
    out = []
    for row, m in rows:
        out.append((row, m))
        neg_event = m.get("rejected_event_id") if m["kind"] == "dpo_cross" else m["event_id"]
        if neg_event in hard and m["kind"] in ("kto_neg", "dpo", "dpo_cross"):
            m["hard_negative"] = True
            for j in range(1, copies):
                out.append((row, {**m, "copy": j}))
    return out


def _augment(rows: dict[str, list[tuple[Row, Meta]]], by_id: dict[int, Ev], val_prompts: set, config: CurationConfig) -> int:
    added = 0
    for method in ("sft", "dpo"):
        real = [(r, m) for r, m in rows[method] if not m.get("synthetic") and not m.get("copy")]
        cap = min(config.augment_max_rows, int(config.augment_max_fraction * len(real)))
        made: list[tuple[Row, Meta]] = []
        for row, m in real:
            if len(made) >= cap:
                break
            ev = by_id[m["event_id"]]
            texts = [row["completion"][0]["content"]] if method == "sft" else [row["chosen"][0]["content"], row["rejected"][0]["content"]]
            prompt = ev.prompt  # a cross pair's prompt is its chosen event's
            rng = random.Random(f"{config.seed}:{m['event_id']}:{m['kind']}")
            kinds = config.augment_kinds if method == "sft" else tuple(k for k in config.augment_kinds if k == "rename")
            for v in variants(ev.artifact_type, prompt, texts, rng, language=ev.language, n=config.augment_per_row, kinds=kinds):
                norm = normalize_prompt(v.prompt)
                if (ev.artifact_type, norm) in val_prompts:
                    continue
                msgs = messages(ev.artifact_type, v.prompt, ev.language)
                meta = {**m, "synthetic": True, "augmentation": v.kind, "norm_prompt": norm}
                if method == "sft":
                    made.append(({"prompt": msgs, "completion": assistant(v.texts[0])}, meta))
                    rows["kto"].append(({"prompt": msgs, "completion": assistant(v.texts[0]), "label": True}, {**meta, "kind": "kto_pos"}))
                else:
                    made.append(({"prompt": msgs, "chosen": assistant(v.texts[0]), "rejected": assistant(v.texts[1])}, meta))
        rows[method].extend(made)
        added += len(made)
    return added


@dataclass
class _Pools:
    """One build's events after the split: what may be chosen (``pool``: ``fresh`` first, then
    ``replay``) and what validates (``val``); ``dedupe`` counts the duplicates taken out."""

    events: list[Ev]
    now: float
    newly_assigned: list[Ev]
    pool: list[Ev]
    fresh: list[Ev]
    replay: list[Ev]
    val: list[Ev]
    dedupe: dict[str, int]


@dataclass
class _Choice:
    """The events a batch trains on, their active-learning scores, and its hard negatives."""

    events: list[Ev]
    scores: dict
    replayed: int = 0
    hard: set[int] = field(default_factory=set)
    clusters: list[dict[str, Any]] = field(default_factory=list)


def build_batch(
    store: Store,
    *,
    artifact_type: str | None = None,
    method: str = "auto",
    config: CurationConfig = CurationConfig(),
    uncertainty_fn: Callable[[list[dict]], Sequence[float]] | None = None,
    val_history: Sequence[float] | None = None,
    record: bool = True,
) -> Batch:
    """Build (and by default record) one training batch; see the module docstring.

    ``uncertainty_fn(rows) -> scores`` (higher = less certain) lets the training side rank
    candidates by the current model's loss; ``val_history`` overrides the validation metric
    history read from the ``runs`` table (oldest first).
    """
    if method not in METHOD_CHOICES:
        raise InvalidArgument(f"method must be one of {', '.join(METHOD_CHOICES)} (got {method!r})")
    events, now = _load(store, artifact_type, config)
    pools = _split(store, events, now, method, config)
    target, parts, history = _size(store, artifact_type, pools, config, val_history)
    choice = _choose_events(store, pools, target, config, uncertainty_fn)
    _hard_negatives(store, choice, pools.pool, config)
    train, val = _rows(choice, pools.val, config, now)
    n_aug = _augment(train, {ev.id: ev for ev in choice.events}, _val_prompts(pools.val), config) if config.augmentation else 0
    _order_and_check_leakage(train, val, config)
    batch = _assemble(artifact_type, method, config, train, val, choice, pools, parts, n_aug)
    if record:
        _record(store, batch, pools, history, uncertainty_fn is not None)
    return batch


def _load(store: Store, artifact_type: str | None, config: CurationConfig) -> tuple[list[Ev], float]:
    """Eligible events without their texts (read later for the events in use only), grouped by
    near-identical prompts; and the build's "now" (the newest event's time unless configured)."""
    events = load_events(store, artifact_type, texts=False)
    now = config.now if config.now is not None else max((ev.ts for ev in events), default=0.0)
    assign_groups(events, config.near_duplicate_threshold)
    return events, now


def _split(store: Store, events: list[Ev], now: float, method: str, config: CurationConfig) -> _Pools:
    """The stable train/validation split; the train pool for ``method`` (fresh events, those no
    succeeded run trained on, apart from the replay); the validation events, deduplicated and capped."""
    newly_assigned = assign_splits(events, batches.assigned_splits(store), config)
    dd = {"exact": 0, "near": 0}
    pool = [ev for ev in events if ev.split == TRAIN and _useful(ev, method)]
    val_events = fill_texts(store, [ev for ev in events if ev.split == VALIDATION])
    if config.dedupe:
        val_events, removed = dedupe(val_events, near=True)
        dd = {key: dd[key] + n for key, n in removed.items()}
    val_events = _cap_validation(val_events, config.val_max_per_type)
    seen = batches.trained_event_ids(store)
    fresh = [ev for ev in pool if ev.id not in seen]
    replay = [ev for ev in pool if ev.id in seen]
    return _Pools(events, now, newly_assigned, pool, fresh, replay, val_events, dd)


def _size(store: Store, artifact_type: str | None, pools: _Pools, config: CurationConfig,
          val_history: Sequence[float] | None) -> tuple[int, dict[str, float], list[float]]:
    """How many events to choose, the parts of the adaptive size, and the metric history it used."""
    history = list(val_history) if val_history is not None else recent_metric(store, config.trend_metric, artifact_type)
    if artifact_type:
        total = event_table.count(store)
        rarity = 1.0 - (len(pools.events) / total if total else 1.0)
    else:
        rarity = 0.0
    fresh = pools.fresh
    quality = sum(ev.reward for ev in fresh) / len(fresh) if fresh else 0.5
    size, parts = batch_size(len(fresh), quality=quality, rarity=rarity,
                             trend=trend_score(history, config.trend_higher_is_better), config=config)
    target = min(len(pools.pool), max(size, config.min_batch_size if config.adaptive_batch else size))
    return target, parts, history


def _choose_events(store: Store, pools: _Pools, target: int, config: CurationConfig, uncertainty_fn) -> _Choice:
    """Fresh events first (replayed ones refill a small batch), then, with ``replay``, what earlier
    runs learned from, newest first."""
    chosen, scores = _choose(pools.fresh, target, config, uncertainty_fn, store, pools.dedupe)
    if len(chosen) < target and pools.replay:
        more, more_scores = _choose(pools.replay, target - len(chosen), config, uncertainty_fn, store, pools.dedupe)
        chosen += more
        scores.update(more_scores)
    choice = _Choice(chosen, scores)
    if config.replay and pools.replay:
        taken = {ev.id for ev in chosen}
        old = sorted((ev for ev in pools.replay if ev.id not in taken), key=lambda e: -e.ts)[: config.max_replay]
        choice.replayed = len(old)
        choice.events = chosen + fill_texts(store, old)
    return choice


def _hard_negatives(store: Store, choice: _Choice, pool: list[Ev], config: CurationConfig) -> None:
    """Members of the top failure clusters of the newest failures get a reserved share of the batch."""
    if not config.hard_negatives:
        return
    failures = sorted((ev for ev in pool if is_failure(ev, config.failure_reward)), key=lambda e: -e.ts)
    failures = fill_texts(store, failures[: config.hard_negative_window])
    choice.clusters = cluster_failures(failures, config.failure_reward)
    choice.hard = hard_negative_ids(choice.clusters, config.hard_negative_clusters)
    quota = round(config.hard_negative_share * len(choice.events))
    choice.events = fill_texts(store, _add_hard_negatives(choice.events, pool, choice.hard, quota))


def _rows(choice: _Choice, val_events: list[Ev], config: CurationConfig, now: float) -> tuple[Rows, Rows]:
    """Train and validation rows per method, each with its difficulty; hard negatives repeated;
    the active-learning score on the train rows of chosen events."""
    train = build_rows(choice.events, config, now)
    val = build_rows(val_events, config, now)
    for method_rows, d in ((train, difficulties(choice.events)), (val, difficulties(val_events))):
        for rows in method_rows.values():
            for _, m in rows:
                m["difficulty"] = d.get(m["event_id"], 0.5)
    if config.hard_negatives:
        for mname in ("dpo", "kto"):
            train[mname] = _oversample(train[mname], choice.hard, max(1, config.hard_negative_oversample))
    for _, m in train["sft"] + train["dpo"] + train["kto"]:
        if m["event_id"] in choice.scores:
            m["active"] = choice.scores[m["event_id"]]
    return train, val


def _val_prompts(val_events: list[Ev]) -> set[tuple[str, str]]:
    """(artifact type, normalized prompt) of the validation events: augmentation never produces them."""
    return {(ev.artifact_type, ev.norm_prompt) for ev in val_events if ev.norm_prompt}


def _order_and_check_leakage(train: Rows, val: Rows, config: CurationConfig) -> None:
    """Train rows easy -> hard (``curriculum``); raises when a validation row leaked into train."""
    for mname in METHODS:
        if config.curriculum:
            train[mname].sort(key=lambda rm: rm[1]["difficulty"])
        check_leakage(train[mname], val[mname])


def _assemble(artifact_type: str | None, method: str, config: CurationConfig, train: Rows, val: Rows,
              choice: _Choice, pools: _Pools, parts: dict[str, float], n_aug: int) -> Batch:
    chosen_ids = {ev.id for ev in choice.events}
    info = {"events": len(pools.events), "pool": len(pools.pool), "fresh": len(pools.fresh), "valEvents": len(pools.val),
            "dedupe": pools.dedupe, "hardNegatives": len(choice.hard & chosen_ids), "augmented": n_aug,
            "replayed": choice.replayed, "now": pools.now,
            "clusters": [{k: c[k] for k in ("artifactType", "kind", "count")} for c in choice.clusters[:5]]}
    return Batch(
        id=new_batch_id(),
        artifact_type=artifact_type,
        method=method,
        recommended_method=_recommend(method, train),
        components=config.components(),
        train={k: [r for r, _ in v] for k, v in train.items()},
        val={k: [r for r, _ in v] for k, v in val.items()},
        train_meta={k: [m for _, m in v] for k, v in train.items()},
        val_meta={k: [m for _, m in v] for k, v in val.items()},
        kto_weights=_kto_weights([r["label"] for r, _ in train["kto"]]),
        size=len(choice.events),
        size_parts=parts,
        info=info,
        config=config,
    )


def _record(store: Store, batch: Batch, pools: _Pools, history: list[float], has_uncertainty: bool) -> None:
    """The batch, its rows and the splits it assigned first, in ``batches`` / ``batch_rows``."""
    params = {"config": batch.config.to_dict(), "now": pools.now, "size": batch.size, "sizeParts": batch.size_parts,
              "history": history, "uncertaintyFn": has_uncertainty, "recommendedMethod": batch.recommended_method,
              "ktoWeights": batch.kto_weights}
    rows = [("train", m) for metas in batch.train_meta.values() for m in metas]
    rows += [("validation", m) for metas in batch.val_meta.values() for m in metas]
    record_batch(store, batch.id, artifact_type=batch.artifact_type, method=batch.method, components=batch.components,
                 params=params, counts=batch.counts(), assigned=pools.newly_assigned, rows=rows)


def _kto_weights(labels: list[bool]) -> dict[str, float]:
    from .weights import kto_class_weights

    pos = sum(1 for x in labels if x)
    return kto_class_weights(pos, len(labels) - pos)


def _recommend(method: str, train: dict[str, list]) -> str:
    if method != "auto":
        return method
    if train["sft"]:
        return "sft"
    labels = {r["label"] for r, _ in train["kto"]}
    if labels == {True, False}:
        return "kto"
    return "dpo" if train["dpo"] else "sft"
