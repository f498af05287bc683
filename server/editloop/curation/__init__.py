"""Curation: events in the feedback database -> training rows in TRL's formats.

Small modules, one concern each, every component switchable in :class:`CurationConfig`:
``split`` (stable grouped train/validation), ``rows`` (SFT/DPO/KTO), ``weights`` (reward x decay),
``batchsize`` (adaptive 20-100), ``curriculum``, ``active`` (uncertainty/diversity/quality),
``hardneg`` (failure clusters), ``augment`` (validated renaming/reordering), ``dedupe`` (and the
leakage check), ``batch`` (:func:`build_batch`, recorded in SQLite) and ``exporter`` (:func:`export`, JSONL).
No heavy imports here: numpy is used inside functions, ``datasets`` only by ``Batch.dataset``.
"""

from .batch import Batch, build_batch
from .config import COMPONENTS, CurationConfig
from .curriculum import Curriculum
from .dedupe import LeakageError
from .exporter import FORMATS, export, export_rows
from .hardneg import failure_clusters

__all__ = [
    "Batch", "build_batch", "COMPONENTS", "CurationConfig", "Curriculum", "LeakageError", "FORMATS", "export",
    "export_rows", "failure_clusters",
]
