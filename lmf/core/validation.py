"""Checks of the values a user passes: class counts, scalars, integers, choices, per-class vectors,
progressive resizing schedules.

Every check raises :class:`lmf.core.errors.ConfigError` (a ``ValueError``) whose message says what was
wrong and what is valid.
"""

from __future__ import annotations

import math

import numpy as np

from lmf.core.errors import ConfigError, unknown_choice


def as_counts(counts) -> np.ndarray:
    """The training-split class counts as a float64 vector, one positive count per class.

    Raises ConfigError when ``counts`` is empty, not one-dimensional, not numeric, has fewer
    than two classes, or holds a count that is not a finite positive number.
    """
    if hasattr(counts, "detach"):  # a torch tensor
        counts = counts.detach().cpu().numpy()
    try:
        values = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            f"class_counts must be numbers, one training count per class; got {counts!r}"
        ) from None
    if values.ndim != 1 or values.size == 0:
        raise ConfigError(
            "class_counts is empty or not a flat sequence; pass one training count per class "
            f"(at least two classes), got {counts!r}"
        )
    if values.size < 2:
        raise ConfigError(f"class_counts needs at least two classes, got {counts!r}")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ConfigError(
            "class_counts must be finite and positive (every class needs at least one training "
            f"example), got {values.tolist()}"
        )
    return values


def check_number(
    name: str, value, *, low: float | None = None, high: float | None = None,
    low_open: bool = False, high_open: bool = False,
) -> float:
    """``value`` as a float, checked against the interval ``[low, high]`` (ends optionally open)."""
    valid = _interval(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{name} must be a number in {valid}, got {value!r}")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        raise ConfigError(f"{name} must be a number in {valid}, got {value!r}")
    return number


def check_integer(name: str, value, *, low: int = 0) -> int:
    """``value`` as an int, at least ``low``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_flag(name: str, value) -> bool:
    """``value`` if it is ``True`` or ``False`` (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return value


def check_choice(name: str, value, valid: tuple[str, ...]) -> str:
    """``value`` if it is one of ``valid``, else a ConfigError listing them."""
    if value not in valid:
        raise unknown_choice(name, value, valid)
    return value


def check_resize_schedule(schedule) -> tuple[tuple[int, int], ...] | None:
    """Progressive resizing (Cui et al.): increasing ``(epoch, size)`` stages, sizes >= 8."""
    if schedule is None or len(schedule) == 0:
        return None
    try:
        stages = tuple((int(epoch), int(size)) for epoch, size in schedule)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"resize_schedule must be (epoch, size) pairs like ((0, 128), (10, 224)), got {schedule!r}"
        ) from error
    epochs = [epoch for epoch, _ in stages]
    if epochs != sorted(set(epochs)) or epochs[0] < 0 or min(s for _, s in stages) < 8:
        raise ConfigError(
            f"resize_schedule needs increasing epochs >= 0 and sizes >= 8, got {schedule!r}"
        )
    return stages


def as_class_vector(name: str, values, num_classes: int | None = None):
    """A per-class vector (margins, class weights) as a torch tensor of the default float dtype.

    The values must be finite and non-negative, not all zero, and there must be ``num_classes``
    of them when ``num_classes`` is given.
    """
    import torch  # only the losses need tensors; the checks above do not import torch

    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().to(torch.float64).numpy()
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    expected = f"{num_classes} " if num_classes is not None else ""
    if (
        array is None or array.ndim != 1 or array.size == 0
        or (num_classes is not None and array.size != num_classes)
        or not np.all(np.isfinite(array)) or np.any(array < 0) or not np.any(array > 0)
    ):
        raise ConfigError(
            f"{name} must be a sequence of {expected}finite non-negative numbers (one per class, "
            f"not all zero), got {values!r}"
        )
    return torch.as_tensor(array, dtype=torch.get_default_dtype())


def _interval(low, high, low_open, high_open) -> str:
    left = "-inf" if low is None else f"{low:g}"
    right = "inf" if high is None else f"{high:g}"
    return f"{'(' if low_open or low is None else '['}{left}, {right}{')' if high_open or high is None else ']'}"
