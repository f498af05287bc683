"""``build_batch``: events in SQLite -> one recorded training batch of TRL rows.

Steps (each component switchable in :class:`CurationConfig`):

1. load eligible events without their texts (lost regions never), group near-identical prompts,
   assign the stable train/validation split (:mod:`.split`); texts are read later only for the
   events in use (candidates, validation, recent failures);
2. the train pool: train-side events that yield rows for the method; events that no succeeded
   run has trained on yet are *fresh* and come first, earlier ones only refill a small batch;
3. the batch size (``adaptive_batch``, :mod:`.batchsize`), the candidates (:func:`.active.prefilter`),
   exact and near duplicates out (``dedupe``), and the choice (``active``, k-center greedy);
4. hard negatives (``hard_negatives``): members of the top failure clusters get a reserved share
   of the batch and their negative rows are repeated ``hard_negative_oversample`` times;
5. rows for SFT, DPO (``cross_pairs`` adds cross-event pairs) and KTO, with weights (``weights``);
   difficulty on every row, rows ordered easy -> hard (``curriculum``); synthetic variants
   (``augmentation``) appended to train;
6. the leakage check (raises), then the batch and its rows are recorded in ``batches`` /
   ``batch_rows`` so a run can name the exact data it used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..errors import InvalidArgument
from ..store import Store
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
from .record import new_batch_id, record_batch, trained_event_ids
from .rows import METHODS, Meta, Row, build_rows, positive_text
from .split import TRAIN, VALIDATION, assign_splits, recorded_splits

METHOD_CHOICES = ("auto",) + METHODS


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
    events = load_events(store, artifact_type, texts=False)  # texts are read for the events in use only
    n_loaded = len(events)
    now = config.now if config.now is not None else max((ev.ts for ev in events), default=0.0)
    assign_groups(events, config.near_duplicate_threshold)
    newly_assigned = assign_splits(events, recorded_splits(store), config)
    dd = {"exact": 0, "near": 0}

    pool = [ev for ev in events if ev.split == TRAIN and _useful(ev, method)]
    val_events = fill_texts(store, [ev for ev in events if ev.split == VALIDATION])
    if config.dedupe:
        val_events, removed = dedupe(val_events, near=True)
        dd = {key: dd[key] + n for key, n in removed.items()}
    val_events = _cap_validation(val_events, config.val_max_per_type)
    seen = trained_event_ids(store)
    fresh = [ev for ev in pool if ev.id not in seen]
    replay = [ev for ev in pool if ev.id in seen]

    # -- size --------------------------------------------------------------------------------
    history = list(val_history) if val_history is not None else recent_metric(store, config.trend_metric, artifact_type)
    if artifact_type:
        with store.lock:
            total = store.db.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        rarity = 1.0 - (n_loaded / total if total else 1.0)
    else:
        rarity = 0.0
    quality = sum(ev.reward for ev in fresh) / len(fresh) if fresh else 0.5
    size, parts = batch_size(len(fresh), quality=quality, rarity=rarity,
                             trend=trend_score(history, config.trend_higher_is_better), config=config)
    target = min(len(pool), max(size, config.min_batch_size if config.adaptive_batch else size))

    # -- choice ------------------------------------------------------------------------------
    chosen, scores = _choose(fresh, target, config, uncertainty_fn, store, dd)
    if len(chosen) < target and replay:
        more, more_scores = _choose(replay, target - len(chosen), config, uncertainty_fn, store, dd)
        chosen += more
        scores.update(more_scores)
    n_replayed = 0
    if config.replay and replay:
        # The batch (the new information of this run) plus what earlier runs learned from, newest first.
        taken = {ev.id for ev in chosen}
        old = sorted((ev for ev in replay if ev.id not in taken), key=lambda e: -e.ts)[: config.max_replay]
        n_replayed = len(old)
        chosen = chosen + fill_texts(store, old)
    hard: set[int] = set()
    clusters: list[dict[str, Any]] = []
    if config.hard_negatives:
        failures = sorted((ev for ev in pool if is_failure(ev, config.failure_reward)), key=lambda e: -e.ts)
        failures = fill_texts(store, failures[: config.hard_negative_window])
        clusters = cluster_failures(failures, config.failure_reward)
        hard = hard_negative_ids(clusters, config.hard_negative_clusters)
        chosen = fill_texts(store, _add_hard_negatives(chosen, pool, hard, round(config.hard_negative_share * len(chosen))))

    # -- rows --------------------------------------------------------------------------------
    train = build_rows(chosen, config, now)
    val = build_rows(val_events, config, now)
    diff = difficulties(chosen)
    val_diff = difficulties(val_events)
    for method_rows, d in ((train, diff), (val, val_diff)):
        for rows in method_rows.values():
            for _, m in rows:
                m["difficulty"] = d.get(m["event_id"], 0.5)
    if config.hard_negatives:
        for mname in ("dpo", "kto"):
            train[mname] = _oversample(train[mname], hard, max(1, config.hard_negative_oversample))
    for m in train["sft"] + train["dpo"] + train["kto"]:
        if m[1]["event_id"] in scores:
            m[1]["active"] = scores[m[1]["event_id"]]
    n_aug = 0
    if config.augmentation:
        val_prompts = {(ev.artifact_type, ev.norm_prompt) for ev in val_events if ev.norm_prompt}
        n_aug = _augment(train, {ev.id: ev for ev in chosen}, val_prompts, config)
    for mname in METHODS:
        if config.curriculum:
            train[mname].sort(key=lambda rm: rm[1]["difficulty"])
        check_leakage(train[mname], val[mname])

    kto_labels = [r["label"] for r, _ in train["kto"]]
    kto_weights = _kto_weights(kto_labels)
    recommended = _recommend(method, train)
    batch = Batch(
        id=new_batch_id(),
        artifact_type=artifact_type,
        method=method,
        recommended_method=recommended,
        components=config.components(),
        train={k: [r for r, _ in v] for k, v in train.items()},
        val={k: [r for r, _ in v] for k, v in val.items()},
        train_meta={k: [m for _, m in v] for k, v in train.items()},
        val_meta={k: [m for _, m in v] for k, v in val.items()},
        kto_weights=kto_weights,
        size=len(chosen),
        size_parts=parts,
        info={"events": n_loaded, "pool": len(pool), "fresh": len(fresh), "valEvents": len(val_events), "dedupe": dd,
              "hardNegatives": len(hard & {ev.id for ev in chosen}), "augmented": n_aug, "replayed": n_replayed, "now": now,
              "clusters": [{k: c[k] for k in ("artifactType", "kind", "count")} for c in clusters[:5]]},
        config=config,
    )
    if record:
        params = {"config": config.to_dict(), "now": now, "size": batch.size, "sizeParts": parts, "history": history,
                  "uncertaintyFn": uncertainty_fn is not None, "recommendedMethod": recommended, "ktoWeights": kto_weights}
        rows_iter = [("train", m) for metas in batch.train_meta.values() for m in metas]
        rows_iter += [("validation", m) for metas in batch.val_meta.values() for m in metas]
        record_batch(store, batch.id, artifact_type=artifact_type, method=method, components=batch.components,
                     params=params, counts=batch.counts(), assigned=newly_assigned, rows=rows_iter)
    return batch


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
