"""Pinned CPU numerics (``lmf.core.numerics``): set before torch and NumPy load, inherited by child
processes, reported by the libraries themselves, warned about where they cannot hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lmf.core import numerics

AVX2 = numerics.obstacle() is None or "LMF_NUMERICS" in numerics.obstacle()
needs_avx2 = pytest.mark.skipif(not AVX2, reason="this CPU cannot honour the AVX2 pin")

#: What the libraries report about the kernels they use, printed as JSON by a fresh process.
REPORT = """
import json, warnings
warnings.simplefilter("always")
{first}
import numpy, torch, threadpoolctl
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
import lmf.core.numerics as n
torch.ones(8).sum()
print(json.dumps({{
    "pinned": n.pinned(),
    "aten": torch.backends.cpu.get_cpu_capability(),
    "blas": sorted(i.get("architecture") or "" for i in threadpoolctl.threadpool_info()
                   if i["internal_api"] == "openblas"),
    "threads": torch.get_num_threads(),
}}))
"""


def report(first: str, **env) -> tuple[dict, str]:
    environ = {k: v for k, v in os.environ.items() if k not in numerics.PINNED}
    environ.pop(numerics.OPT_OUT, None)
    done = subprocess.run([sys.executable, "-c", REPORT.format(first=first)], env={**environ, **env},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@needs_avx2
def test_importing_lmf_first_pins_every_library():
    seen, stderr = report("import lmf")
    assert seen == {"pinned": True, "aten": "AVX2", "blas": ["Haswell"], "threads": 1}
    assert "not pinned" not in stderr


@needs_avx2
def test_numpy_imported_before_lmf_is_reported_once():
    seen, stderr = report("import numpy\nimport lmf\nimport lmf.core.numerics\nlmf.numerics.pin()")
    assert seen["pinned"] is False
    assert stderr.count("CPU numerics are not pinned (NumPy chose its kernels") == 1


@needs_avx2
def test_a_child_of_a_pinned_process_is_pinned_whatever_it_imports_first():
    child = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
             f"{REPORT.format(first='import numpy; import lmf')!r}], check=True)")
    done = subprocess.run([sys.executable, "-c", "import lmf\n" + child],
                          capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["pinned"] is True and seen["aten"] == "AVX2" and seen["blas"] == ["Haswell"]


def test_the_opt_out_keeps_native_kernels_and_says_so():
    seen, stderr = report("import lmf", LMF_NUMERICS="native")
    assert seen["pinned"] is False and seen["threads"] == 1
    assert "LMF_NUMERICS=native" in stderr


def test_a_cpu_without_avx2_or_another_architecture_cannot_be_pinned(monkeypatch):
    monkeypatch.delenv(numerics.OPT_OUT, raising=False)
    monkeypatch.setattr(numerics, "cpu_flags", lambda: {"sse4_2", "avx"})
    monkeypatch.setattr(numerics.platform, "machine", lambda: "x86_64")
    assert numerics.obstacle() == "this CPU lacks avx2, fma"
    monkeypatch.setattr(numerics.platform, "machine", lambda: "aarch64")
    assert "aarch64" in numerics.obstacle()


def test_the_record_says_what_computed_the_numbers():
    record = numerics.record()
    assert record["version"] == numerics.NUMERICS_VERSION
    assert record["environment"] == {name: os.environ.get(name)
                                     for name in numerics.PINNED}
    assert len(record["lock_sha256"]) == 64
    assert any("Math Kernel" in line for line in record["builds"]["torch_config"])
    if record["pinned"]:
        assert record["aten_capability"] == "AVX2" and record["numpy_simd"] == ["X86_V3"]
