"""One switch per curation component, TRL-style: a dataclass whose every field says what it does.

The learning benchmark ablates each component by turning its flag off; nothing else changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

COMPONENTS = ("dedupe", "augmentation", "hard_negatives", "active", "curriculum", "adaptive_batch", "cross_pairs", "weights", "replay")


@dataclass(frozen=True)
class CurationConfig:
    # -- switches (the ablation table) ----------------------------------------------------------
    dedupe: bool = field(default=True, metadata={"help": "Remove exact and near-duplicate events before building rows."})
    augmentation: bool = field(
        default=True,
        metadata={"help": "Add semantics-preserving synthetic variants (renamed entities, reordered statements) to train."},
    )
    hard_negatives: bool = field(
        default=True, metadata={"help": "Cluster failures and oversample the largest clusters as DPO/KTO negatives."}
    )
    active: bool = field(
        default=True,
        metadata={"help": "Pick train events by uncertainty, diversity and quality; off: the newest events."},
    )
    curriculum: bool = field(
        default=True, metadata={"help": "Order train rows easy -> hard and expose them in stages (Batch.curriculum)."}
    )
    adaptive_batch: bool = field(
        default=True, metadata={"help": "Size the batch from availability, quality, rarity and trend; off: fixed_batch_size."}
    )
    replay: bool = field(
        default=True,
        metadata={"help": "Also train on the events earlier runs trained on (every Train now starts from the base model, "
                          "so a run that sees only the new batch forgets the old ones); at most max_replay of them."},
    )
    max_replay: int = field(default=400, metadata={"help": "Earlier training events replayed at most (the newest first)."})
    cross_pairs: bool = field(
        default=True,
        metadata={"help": "DPO pairs across events: an accepted output vs a rejected one for near-identical prompts."},
    )
    weights: bool = field(
        default=True, metadata={"help": "Reward x temporal decay as sample weights; off: every row weighs 1."}
    )
    # -- split -----------------------------------------------------------------------------------
    val_fraction: float = field(default=0.15, metadata={"help": "Share of each artifact type's events held out for validation."})
    val_max_per_type: int = field(default=200, metadata={"help": "At most this many validation events per artifact type."})
    val_min_events: int = field(
        default=8, metadata={"help": "An artifact type with fewer prompt groups than this gets no validation events yet."}
    )
    near_duplicate_threshold: float = field(
        default=0.8,
        metadata={"help": "Jaccard similarity of prompt word bigrams at or above which two prompts share a split group."},
    )
    # -- rows --------------------------------------------------------------------------------------
    min_edit_chars: int = field(
        default=1,
        metadata={"help": "An edit makes a DPO pair / KTO negative only if it changes at least this many non-whitespace characters."},
    )
    reject_rewrites_as_positive: bool = field(
        default=True,
        metadata={"help": "A reject whose final text is a user's rewrite counts that rewrite as a positive (SFT/chosen)."},
    )
    max_cross_pairs_per_group: int = field(default=4, metadata={"help": "Cross-event DPO pairs built per prompt group at most."})
    # -- weights -----------------------------------------------------------------------------------
    half_life_days: float = field(default=30.0, metadata={"help": "Temporal decay of sample weights (editloop.reward.halfLifeDays)."})
    implicit_weight: float = field(default=0.8, metadata={"help": "Multiplier for events resolved implicitly (no click)."})
    min_weight: float = field(default=0.05, metadata={"help": "Floor for any sample weight."})
    # -- batch size --------------------------------------------------------------------------------
    min_batch_size: int = field(default=20, metadata={"help": "Smallest adaptive batch (train events)."})
    max_batch_size: int = field(default=100, metadata={"help": "Largest adaptive batch (train events)."})
    fixed_batch_size: int = field(default=100, metadata={"help": "Batch size when adaptive_batch is off."})
    trend_metric: str = field(default="valLoss", metadata={"help": "Key in runs.metrics whose recent trend sizes the batch (store.metrics names)."})
    trend_higher_is_better: bool = field(default=False, metadata={"help": "Direction of trend_metric."})
    # -- curriculum --------------------------------------------------------------------------------
    curriculum_stages: int = field(default=3, metadata={"help": "Number of easy -> hard stages."})
    curriculum_patience: int = field(
        default=1, metadata={"help": "Validation reports without improvement after which the next stage opens."}
    )
    curriculum_min_delta: float = field(default=0.01, metadata={"help": "Relative improvement that counts as progress."})
    # -- active learning ---------------------------------------------------------------------------
    active_uncertainty_weight: float = field(default=0.4, metadata={"help": "Weight of uncertainty in the active score."})
    active_diversity_weight: float = field(default=0.35, metadata={"help": "Weight of diversity (k-center distance)."})
    active_quality_weight: float = field(default=0.25, metadata={"help": "Weight of quality (validity, user-authored text)."})
    active_pool_max: int = field(
        default=2000, metadata={"help": "Candidates kept (by uncertainty + quality) before the k-center pass."}
    )
    embeddings: bool = field(
        default=False,
        metadata={"help": "Use sentence embeddings for diversity (needs editloop[embeddings]); off: character n-grams."},
    )
    # -- hard negatives ----------------------------------------------------------------------------
    failure_reward: float = field(default=0.3, metadata={"help": "Events with a reward below this count as failures."})
    hard_negative_clusters: int = field(default=3, metadata={"help": "Top failure clusters whose members are oversampled."})
    hard_negative_window: int = field(default=2000, metadata={"help": "Newest failures of the pool that are clustered."})
    hard_negative_share: float = field(
        default=0.2, metadata={"help": "Share of the batch reserved for members of the top failure clusters."}
    )
    hard_negative_oversample: int = field(default=2, metadata={"help": "Copies of each hard negative in DPO/KTO train rows."})
    # -- augmentation ------------------------------------------------------------------------------
    augment_per_row: int = field(default=1, metadata={"help": "Synthetic variants tried per train row."})
    augment_kinds: tuple[str, ...] = field(
        default=("rename", "reorder"), metadata={"help": "Transforms to use: 'rename' (entities), 'reorder' (statements)."}
    )
    augment_max_rows: int = field(
        default=16, metadata={"help": "Synthetic rows per method at most (each costs a validation: a Mermaid render is 5-30 ms)."}
    )
    augment_max_fraction: float = field(default=0.5, metadata={"help": "Synthetic rows at most this share of real train rows."})
    # -- reproducibility ---------------------------------------------------------------------------
    seed: int = field(default=0, metadata={"help": "Seed for every random choice (augmentation, tie-breaks)."})
    now: float | None = field(
        default=None, metadata={"help": "Reference time (epoch s) for decay; default: the newest event's time."}
    )

    def replace(self, **changes: Any) -> "CurationConfig":
        return dataclasses.replace(self, **changes)

    def components(self) -> list[str]:
        return [c for c in COMPONENTS if getattr(self, c)]

    def without(self, *names: str) -> "CurationConfig":
        """The same config with the named components switched off (for ablations)."""
        unknown = set(names) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown curation components: {', '.join(sorted(unknown))}")
        return self.replace(**{n: False for n in names})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
