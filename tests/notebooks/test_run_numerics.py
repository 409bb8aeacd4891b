"""Every run the notebooks trained (in sweep workers started by notebook kernels that nbval or
``lmf reproduce`` started) computed with the pinned CPU numerics, and its ``run.json`` says so."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lmf.core import numerics

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.timeout(1800)
def test_every_run_records_the_pinned_numerics_and_the_lock(regenerated, results_dir):
    assert regenerated.ok, regenerated.error
    records = [json.loads(path.read_text())["numerics"]
               for path in results_dir.glob("*/run.json")]
    assert len(records) > 50, "the notebooks train the cpu grids"
    lock = hashlib.sha256((REPO / "requirements.lock").read_bytes()).hexdigest()
    assert {r["lock_sha256"] for r in records} == {lock}
    assert {r["version"] for r in records} == {numerics.NUMERICS_VERSION}
    if numerics.obstacle() is not None:
        assert not any(r["pinned"] for r in records)
        pytest.skip(f"this machine cannot pin ({numerics.obstacle()}); its runs say so")
    assert all(r["pinned"] for r in records), [r["not_pinned_because"] for r in records]
    assert {r["aten_capability"] for r in records} == {"AVX2"}
    assert {r["environment"]["MKL_CBWR"] for r in records} == {numerics.PINNED["MKL_CBWR"]}
