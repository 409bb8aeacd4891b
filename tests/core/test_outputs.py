"""lmf.core.outputs.save_figure writes the same bytes for the same figure in any process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

#: A figure with what varies most in PDF files: text in several fonts and scripts (font
#: subsets), mathtext, transparency, hatches, markers and an image.
DRAW = """
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from lmf.core.outputs import save_figure

rng = np.random.default_rng(0)
fig, axes = plt.subplots(1, 3, figsize=(9, 3))
axes[0].scatter(rng.random(20), rng.random(20), c=rng.random(20), alpha=0.5, marker="^")
axes[0].set_title("Macro-F1 (%) λ σ")
axes[1].bar([1, 2, 3], [3, 1, 2], hatch="//", alpha=0.3, label="LMF α=1, β=2")
axes[1].legend()
image = axes[2].imshow(rng.random((8, 8)), cmap="magma")
axes[2].set_xlabel(r"$\\lambda^2$ class size")
fig.colorbar(image)
save_figure(fig, "fig9_determinism", "cpu")
"""


def _draw_in_a_new_process(figures: Path) -> dict[str, bytes]:
    """Run ``DRAW`` in a fresh interpreter (its own hash seed) writing into ``figures``; return
    the bytes of the PNG and the PDF."""
    env = {**os.environ, "LMF_FIGURES": str(figures), "PYTHONHASHSEED": "random"}
    env.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run([sys.executable, "-c", DRAW], env=env, check=True, timeout=300)
    return {suffix: (figures / "cpu" / f"fig9_determinism.{suffix}").read_bytes()
            for suffix in ("png", "pdf")}


@pytest.mark.slow
def test_the_same_figure_gives_the_same_bytes_in_two_processes(tmp_path):
    first = _draw_in_a_new_process(tmp_path / "a")
    second = _draw_in_a_new_process(tmp_path / "b")
    assert first["png"].startswith(b"\x89PNG") and first["pdf"].startswith(b"%PDF")
    assert first["png"] == second["png"]
    assert first["pdf"] == second["pdf"]


def test_figures_carry_no_software_version_or_date(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lmf.core.outputs import save_figure

    monkeypatch.setenv("LMF_FIGURES", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png, pdf = save_figure(fig, "fig9_metadata", "cpu")
    plt.close(fig)
    for path in (png, pdf):
        data = path.read_bytes()
        assert b"Matplotlib" not in data and matplotlib.__version__.encode() not in data, path
    assert b"/CreationDate" not in pdf.read_bytes()
    assert b"/ModDate" not in pdf.read_bytes()
