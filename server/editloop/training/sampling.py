"""Which rows reach the optimizer, in what order: curation's reward weights and curriculum order.

TRL has no per-sample weight, and a run's datasets keep TRL's columns only, so both act through the
trainer's train sampler (``Trainer._get_train_sampler``), the one hook every trainer Editloop runs
shares (SFT, DPO, and transformers' ``Trainer`` on TRL-prepared data): the loss, its token
normalisation and TRL's fused LM head stay TRL's.

- **Reward weighting** (``TrainConfig.reward_weighting``): each epoch draws as many rows as the
  stage has, row ``i`` about ``N * w_i / sum(w)`` times, by systematic resampling (within one of
  that number, unlike independent draws): a row of half the mean weight is seen every other epoch,
  one of twice the mean twice an epoch. Uniform weights change nothing.
- **Curriculum** (curation's ``curriculum``, which sorted the rows easy -> hard): the drawn rows
  in the dataset's order, every epoch; off, a random order, grouped by length when the stage asks
  for it (``train_sampling_strategy`` ``group_by_length``, as transformers groups them).

KTO keeps TRL's sequential sampler (its KL term pairs each row with its neighbours in a fixed
batch): the curriculum order survives because the rows are not shuffled beforehand; reward weights
do not apply (its class weights, curation's ``kto_weights``, do).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

log = logging.getLogger(__name__)


def systematic_draw(weights: Sequence[float], n: int, offset: float) -> list[int]:
    """``n`` indices, index ``i`` ``floor`` or ``ceil`` of ``n * w_i / sum(w)`` times, ascending.

    Systematic resampling: positions ``(offset + k) * sum(w) / n`` for ``k < n`` (``offset`` in
    [0, 1)) fall into the cumulative weights; a zero weight is never drawn."""
    total = float(sum(weights))
    if n <= 0 or total <= 0:
        return []
    step = total / n
    out: list[int] = []
    cum = 0.0
    last = max(i for i, w in enumerate(weights) if w > 0)
    for i, w in enumerate(weights):
        cum += w
        while len(out) < n and (offset + len(out)) * step < cum and w > 0:
            out.append(i)
    out.extend([last] * (n - len(out)))  # float rounding at the very end of the cumulative sum
    return out


class RowSampler:
    """One epoch of row indices (a ``torch.utils.data.Sampler``): a weighted draw or every row
    once, then the dataset's order (``ordered``) or a random one (grouped by length with
    ``lengths`` and ``group_size``). The same ``seed`` and epoch give the same indices on every
    process, which ``accelerate`` then shares out."""

    def __init__(self, n: int, *, weights: Sequence[float] | None = None, ordered: bool = False, seed: int = 0,
                 lengths: Sequence[int] | None = None, group_size: int = 0) -> None:
        if weights is not None and len(weights) != n:
            raise ValueError(f"{len(weights)} weights for {n} rows")
        self.n, self.weights, self.ordered, self.seed = n, weights, ordered, seed
        self.lengths, self.group_size = lengths, group_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the trainer before each epoch: each epoch draws and shuffles anew."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def indices(self) -> list[int]:
        """This epoch's indices."""
        import torch

        gen = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) % 2**62)
        if self.weights is not None:
            drawn = systematic_draw(self.weights, self.n, torch.rand((), generator=gen).item())
        else:
            drawn = list(range(self.n))
        if self.ordered:
            return sorted(drawn)
        if self.lengths is not None and self.group_size > 1:
            from transformers.trainer_pt_utils import get_length_grouped_indices

            perm = get_length_grouped_indices([self.lengths[i] for i in drawn], self.group_size, generator=gen)
        else:
            perm = torch.randperm(len(drawn), generator=gen).tolist()
        return [drawn[k] for k in perm]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices())


@dataclass
class RowOrder:
    """What one stage's sampler does: curation's weights of the rows given to the trainer (None:
    uniform) and whether their order is kept. ``source`` is the dataset given to the trainer
    (before TRL prepared it), set once it exists."""

    columns: tuple[str, ...]  # TRL's columns, to match prepared rows to source rows
    weights: list[float] | None
    ordered: bool
    seed: int
    source: Any = None
    notes: list[str] = field(default_factory=list)  # the stage's notes (metrics.json)

    def describe(self) -> str:
        parts = []
        if self.weights is not None:
            parts.append("rows drawn in proportion to curation's reward weights")
        parts.append("curriculum order (easy -> hard) every epoch" if self.ordered else "random order")
        return "sampler: " + ", ".join(parts)

    def sampler(self, trainer) -> RowSampler | None:
        """The sampler for ``trainer``'s prepared train dataset; None: the trainer's own."""
        dataset = trainer.train_dataset
        weights = self._weights_for(dataset)
        if weights is None and not self.ordered:
            return None
        args = trainer.args
        lengths = group = None
        grouped = str(getattr(args, "train_sampling_strategy", "")) == "group_by_length"
        if grouped and "input_ids" in dataset.column_names:
            lengths = [len(ids) for ids in dataset["input_ids"]]
            group = args.train_batch_size * args.gradient_accumulation_steps
        return RowSampler(len(dataset), weights=weights, ordered=self.ordered, seed=self.seed, lengths=lengths,
                          group_size=group or 0)

    def _weights_for(self, dataset) -> list[float] | None:
        """The weights of ``dataset``'s rows: of the source rows TRL kept (it may drop some)."""
        if self.weights is None:
            return None
        if self.source is not None:
            kept = kept_rows(dataset, self.source, self.columns)
        else:
            kept = list(range(len(dataset))) if len(dataset) == len(self.weights) else None
        if kept is None:
            self.notes.append("reward weights not applied: the trainer's rows could not be matched to curation's")
            log.warning(self.notes[-1])
            return None
        return [self.weights[i] for i in kept]


def kept_rows(prepared, source, columns: Sequence[str]) -> list[int] | None:
    """Indices of the ``source`` rows that TRL's preparation kept, in order; None if unknown.

    TRL only drops rows while preparing (an example whose prompt fills ``max_length``) and keeps
    the original columns, so the prepared rows are a subsequence of the source rows."""
    if len(prepared) == len(source):
        return list(range(len(source)))
    if any(c not in prepared.column_names for c in columns):
        return None
    want = list(zip(*(prepared[c] for c in columns)))
    have = list(zip(*(source[c] for c in columns)))
    kept: list[int] = []
    for i, row in enumerate(have):
        if len(kept) < len(want) and row == want[len(kept)]:
            kept.append(i)
    return kept if len(kept) == len(want) else None


class RowOrderMixin:
    """A trainer whose train sampler follows its ``row_order`` (a :class:`RowOrder`; None: the
    trainer's own sampler)."""

    row_order: RowOrder | None = None

    def _get_train_sampler(self, train_dataset=None):
        sampler = self.row_order.sampler(self) if self.row_order is not None else None
        return sampler if sampler is not None else super()._get_train_sampler(train_dataset)


_ORDERED: dict[type, type] = {}


def ordered_trainer(trainer_cls: type) -> type:
    """``trainer_cls`` with :class:`RowOrderMixin` (one subclass per class)."""
    if trainer_cls not in _ORDERED:
        _ORDERED[trainer_cls] = type(f"Editloop{trainer_cls.__name__}", (RowOrderMixin, trainer_cls), {})
    return _ORDERED[trainer_cls]


def row_order(method: str, split, *, curriculum: bool, reward_weighting: bool, seed: int) -> RowOrder | None:
    """The stage's :class:`RowOrder`, or None when the trainer's own sampler does what is asked:
    KTO (sequential, see the module docstring), or neither weights that differ nor a curriculum."""
    from .data import COLUMNS

    if method == "kto":
        return None
    weights = list(split.weights) if reward_weighting and split.weights else None
    if weights is not None and len(set(weights)) < 2:
        weights = None  # uniform: the same draw as no weights
    if weights is None and not curriculum:
        return None
    return RowOrder(COLUMNS[method], weights, curriculum, seed)
