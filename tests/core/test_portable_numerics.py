"""The pinned CPU numerics compute alike on Intel and AMD CPUs: ``lmf numerics`` prints the same
digest of every kind of kernel the runs use (``lmf.core.numerics.probe``) on this CPU and under QEMU's
user-mode emulation of an Intel Haswell and an AMD EPYC-Rome, whose ``cpuid`` reports another
vendor, other instruction sets and other cache sizes, which is what MKL and oneDNN choose their
code paths and blockings by.

QEMU's emulation is exact IEEE arithmetic (the AMD emulation gives this AMD host's digests
bit for bit in every setting tried here), so a digest that differs is a library choosing another
code path for another CPU. The second test shows the check can fail: MKL's AVX2 branch, the pin
this project had before, computes its GEMMs differently for the emulated Intel and AMD CPUs.

QEMU (Debian's ``qemu-user``) is installed with apt-get where it is missing and this is root, as
the SLURM tests install SLURM; elsewhere the tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from lmf.core import numerics

#: An Intel and an AMD CPU model of QEMU with AVX2 and FMA (QEMU 7.2's TCG emulates both).
EMULATED = {"intel": "Haswell-v4", "amd": "EPYC-Rome-v2"}
#: The kernels MKL computes (its GEMMs, and the convolutions PyTorch hands to them).
MKL_KERNELS = ("linear", "matmul")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def qemu() -> str:
    found = shutil.which("qemu-x86_64")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("qemu-x86_64 is missing (Debian: apt-get install qemu-user)")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "qemu-user"]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(install, capture_output=True, env=environment).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=environment)
        installed = subprocess.run(install, capture_output=True, text=True, env=environment)
        assert installed.returncode == 0, installed.stderr[-2000:]
    return shutil.which("qemu-x86_64")


def digests(qemu: str | None = None, cpu: str | None = None, **environment: str) -> dict:
    """The digests ``lmf numerics`` prints, natively or on QEMU's ``cpu``."""
    command = [sys.executable, "-m", "lmf.cli", "numerics"]
    if cpu:
        command = [qemu, "-cpu", cpu, *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**os.environ, **environment})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)["digests"]


def on_each(qemu: str, **environment: str) -> dict[str, dict]:
    """The digests natively and on each emulated CPU, the emulations side by side."""
    with ThreadPoolExecutor(len(EMULATED)) as pool:
        emulated = {name: pool.submit(digests, qemu, cpu, **environment)
                    for name, cpu in EMULATED.items()}
        return {"this CPU": digests(**environment),
                **{name: future.result() for name, future in emulated.items()}}


def differing(found: dict[str, dict]) -> dict[str, dict]:
    """The kernels whose digest is not the same on every CPU, with each CPU's digest."""
    first = next(iter(found.values()))
    return {kernel: {cpu: d[kernel] for cpu, d in found.items()} for kernel in first
            if len({d[kernel] for d in found.values()}) > 1}


def test_the_pinned_kernels_compute_alike_on_intel_and_amd_cpus(qemu):
    if numerics.obstacle():
        pytest.skip(f"this machine cannot pin: {numerics.obstacle()}")
    found = on_each(qemu)
    assert not differing(found), f"kernels that compute differently: {differing(found)}"


def test_mkl_avx2_branch_computes_differently_on_intel_and_amd(qemu):
    if numerics.obstacle():
        pytest.skip(f"this machine cannot pin: {numerics.obstacle()}")
    avx2 = {**numerics.PINNED, "MKL_CBWR": "AVX2,STRICT", numerics.OPT_OUT: "native"}
    with ThreadPoolExecutor(len(EMULATED)) as pool:
        found = dict(zip(EMULATED, pool.map(lambda cpu: digests(qemu, cpu, **avx2),
                                            EMULATED.values()), strict=True))
    assert set(differing(found)) >= set(MKL_KERNELS), differing(found)
