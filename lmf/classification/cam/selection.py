"""Which test image Fig 3 shows: one of a named class, chosen the way the paper chose.

Sadi et al. (LMF paper, Fig 3) show, per dataset, a test image of one class (ODIR H, HAM AKIEC,
ISIC NV, COVID LO; ``Profile.cam_classes``) that LMF classifies correctly and the baseline losses
do not. ``pick_image`` applies that rule to the saved test predictions of the runs, relaxing it
step by step when no image meets it, and says which rule it used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from lmf.core.errors import ConfigError, DataError, unknown_choice


@dataclass(frozen=True)
class Pick:
    """A chosen test image: its sample id, true class index, and the rule that chose it."""

    sample_id: str
    label: int
    rule: str


def resolve_class(name: str, class_names: list[str]) -> int:
    """Index of class ``name``: exact, case-insensitive, or by initials (``LO`` = ``Lung_Opacity``).

    The paper abbreviates class names (COVID's ``LO``, ``VP``) that the data folders spell out.
    """
    folded = [c.casefold() for c in class_names]
    initials = ["".join(w[0] for w in re.split(r"[\s_\-]+", c) if w).casefold()
                for c in class_names]
    for candidates in (class_names, folded, initials):
        key = name if candidates is class_names else name.casefold()
        if candidates.count(key) == 1:
            return candidates.index(key)
    raise unknown_choice("class", name, class_names)


def pick_image(predictions: dict[str, dict], class_index: int, lmf_loss: str = "lmf") -> Pick:
    """A test image of class ``class_index`` that the baselines get wrong and LMF gets right.

    ``predictions`` maps each loss to ``lmf.core.runs.load_predictions`` output (``logits``,
    ``labels``, ``ids``) of runs on the same test set; images are matched by id. Candidates are
    ranked by (LMF correct, number of baselines wrong, LMF's softmax probability of the true
    class), then by id, so the choice is deterministic. The returned rule reads e.g.
    ``"LMF right, 4 of 4 baselines wrong"``; ``"first image of the class"`` if no loss is LMF.
    """
    if not predictions:
        raise ConfigError("pick_image needs the test predictions of at least one run")
    ids, labels, correct, confidence = _aligned(predictions)
    candidates = np.flatnonzero(labels == class_index)
    if candidates.size == 0:
        raise DataError(f"the test set holds no image of class index {class_index}; choose "
                        "another class or give image ids")
    if lmf_loss not in predictions:
        first = candidates[np.argsort(ids[candidates], kind="stable")[0]]
        return Pick(str(ids[first]), int(class_index), "first image of the class (no LMF run)")
    baselines = [loss for loss in predictions if loss != lmf_loss]
    wrong = sum((~correct[loss]).astype(int) for loss in baselines) if baselines else \
        np.zeros(len(ids), dtype=int)
    order = np.lexsort((ids[candidates], -confidence[lmf_loss][candidates],
                        -wrong[candidates], ~correct[lmf_loss][candidates]))
    best = candidates[order[0]]
    verdict = "right" if correct[lmf_loss][best] else "wrong"
    rule = f"LMF {verdict}, {int(wrong[best])} of {len(baselines)} baselines wrong"
    return Pick(str(ids[best]), int(class_index), rule)


def _aligned(predictions: dict[str, dict]):
    """Ids, true labels, per-loss correctness and true-class probability on the shared test ids."""
    tables = {}
    for loss, pred in predictions.items():
        ids = np.asarray([str(i) for i in pred["ids"]])
        logits = np.asarray(pred["logits"], dtype=np.float64)
        labels = np.asarray(pred["labels"], dtype=np.int64)
        tables[loss] = dict(zip(ids, zip(logits, labels, strict=True), strict=True))
    shared = sorted(set.intersection(*(set(t) for t in tables.values())))
    if not shared:
        raise DataError("the runs' test predictions share no image id; were they trained on "
                        "the same split?")
    ids = np.asarray(shared)
    first = next(iter(tables.values()))
    labels = np.asarray([first[i][1] for i in shared])
    correct, confidence = {}, {}
    for loss, table in tables.items():
        if any(table[i][1] != first[i][1] for i in shared):
            raise DataError(f"the {loss} run's test labels disagree with the others'; the runs "
                            "must share one test split")
        logits = np.stack([table[i][0] for i in shared])
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        correct[loss] = logits.argmax(axis=1) == labels
        confidence[loss] = probs[np.arange(len(shared)), labels]
    return ids, labels, correct, confidence
