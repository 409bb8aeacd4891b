"""Pinned CPU numerics: the same kernels, hence the same float rounding, on any x86-64 machine
with AVX2.

PyTorch, oneDNN, MKL, NumPy and OpenBLAS each pick their kernels by the CPU they find: ATen
dispatches its vectorised loops to the widest instruction set (AVX-512 where there is one),
oneDNN's convolutions and MKL's GEMMs choose their own code paths and blockings, NumPy's SIMD
loops and OpenBLAS's cores do the same. Wider vectors add the same numbers in another order, so a
run trained on an AVX-512 machine and one trained on an AVX2 machine differ in the last bits of
the first step, and training amplifies that into different metrics. MKL also goes by the vendor:
its AVX2 branch (``MKL_CBWR=AVX2``) computes a GEMM in another order on an AMD CPU than on an
Intel one, and PyTorch's linear layers and some of its convolutions call MKL. :func:`pin` asks
every library for one code path before it loads:

============================  =========  ==================================================
variable                      value      what it pins
============================  =========  ==================================================
``ATEN_CPU_CAPABILITY``       ``avx2``   PyTorch's ATen kernels (reductions, BatchNorm, ...)
``ONEDNN_MAX_CPU_ISA``        ``AVX2``   oneDNN's convolutions (PyTorch's ``mkldnn``)
``MKL_CBWR``                  ``COMPA-   MKL's conditional numerical reproducibility: the
                              TIBLE,     branch that computes alike on Intel and AMD CPUs,
                              STRICT``   alignment-independent
``NPY_ENABLE_CPU_FEATURES``   ``X86_V3`` NumPy's dispatched SIMD loops (AVX2, FMA3; no AVX-512)
``OPENBLAS_CORETYPE``         ``Haswell`` the OpenBLAS kernels of NumPy and SciPy (PCA,
                                         t-SNE's distances, least squares)
``OMP_NUM_THREADS``,          ``1``      one thread outside a run as inside one: float
``MKL_NUM_THREADS``,                     reductions split per thread; a run still sets its
``OPENBLAS_NUM_THREADS``                 own ``RunConfig.threads``
============================  =========  ==================================================

The values come from the libraries' documentation (PyTorch ``aten/src/ATen/native/DispatchStub``,
oneDNN "CPU dispatcher control", Intel MKL "Conditional Numerical Reproducibility", NumPy "CPU
build options", OpenBLAS ``DYNAMIC_ARCH``). Every variable is read when its library first loads
or first computes, so ``import lmf`` calls :func:`pin` before anything imports torch or NumPy, and
child processes (sweep workers, notebook kernels, SLURM jobs through submitit) inherit the
environment. oneDNN stays on for convolutions: with one thread (every run's default) its AVX2
kernels accumulate each output in one fixed order whatever the cache sizes; turning it off
(ATen's slow convolution) costs 1.3-5.5x on the cpu profile's networks, while the compatible MKL
branch costs nothing measurable there (its GEMMs are small).

How this is known: :func:`probe` computes a digest of every kind of kernel the runs use (MKL
GEMMs, each oneDNN convolution kind forward and backward, NumPy, OpenBLAS, scikit-learn's PCA and
t-SNE). ``tests/core/test_portable_numerics.py`` runs it on this CPU and under QEMU's
emulation of an Intel Haswell and an AMD EPYC (each with its own vendor, instruction set and
cache sizes in ``cpuid``) and requires one digest. With ``MKL_CBWR=AVX2,STRICT`` the GEMMs and
1x1 convolutions differed between an AMD EPYC (Zen 4) and the emulated Intel CPUs; with
``COMPATIBLE,STRICT`` every digest agrees. ``lmf numerics`` prints the digest of the machine
it runs on.

:data:`NUMERICS_VERSION` enters every run's identity: runs trained before the pin, or under
another pin, have other numbers and are trained again instead of being mixed with pinned ones.
A machine that cannot honour the pin (no AVX2, not x86-64) or a user who opts out with
``LMF_NUMERICS=native`` gets one warning, and :func:`record` writes what was in effect into every
``run.json``. GPU kernels are not pinned: CUDA results depend on the GPU and its libraries.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import re
import sys
import warnings
from pathlib import Path

#: Enters every run's identity; raise it when the pinned kernels change.
NUMERICS_VERSION = "avx2-2"
#: The environment of the pinned numerics (see the module docstring).
PINNED = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "COMPATIBLE,STRICT",
    "NPY_ENABLE_CPU_FEATURES": "X86_V3",
    "OPENBLAS_CORETYPE": "Haswell",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}
#: Setting this to ``native`` leaves every library on its own kernels (for speed measurements).
OPT_OUT = "LMF_NUMERICS"
#: The CPU flags the pinned kernels need.
REQUIRED_FLAGS = ("avx2", "fma")


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux reports them (empty where ``/proc/cpuinfo`` is absent)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    match = re.search(r"^flags\s*:(.*)$", text, flags=re.MULTILINE)
    return set(match.group(1).split()) if match else set()


def obstacle() -> str | None:
    """Why this process cannot compute with the pinned kernels, or ``None`` when it can."""
    if os.environ.get(OPT_OUT, "").lower() == "native":
        return f"{OPT_OUT}=native leaves every library on its native kernels"
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return f"this is a {platform.machine()} CPU, and the pinned kernels are x86-64 ones"
    missing = [flag for flag in REQUIRED_FLAGS if flag not in cpu_flags()]
    if missing:
        return f"this CPU lacks {', '.join(missing)}"
    return None


#: Whether NumPy was loaded, and whether the environment was pinned already (by a parent
#: process), when lmf was first imported in this process.
_NUMPY_BEFORE = "numpy" in sys.modules
_INHERITED = all(os.environ.get(name) == value for name, value in PINNED.items())
#: Why this process does not compute with the pinned kernels (``None``: it does).
_problem: str | None = "lmf.core.numerics.pin() was not called"


def pin() -> bool:
    """Set :data:`PINNED` in this process's environment (inherited by its children); return
    whether the pin holds. Warns once when it cannot: the machine, an opt-out, or torch or NumPy
    having chosen their kernels before ``lmf`` was imported. The thread counts are pinned in
    every case."""
    global _problem
    problem = obstacle()
    if problem is None:
        os.environ.update(PINNED)
        problem = _chosen_before_pin()
    else:
        os.environ.update({name: value for name, value in PINNED.items()
                           if name.endswith("_NUM_THREADS")})
    _problem = problem
    if problem is not None:
        _warn_once(problem)
    return problem is None


def _chosen_before_pin() -> str | None:
    """NumPy picks its SIMD loops and OpenBLAS core when it loads; torch picks ATen's kernels at
    its first computation."""
    late = ["NumPy"] if _NUMPY_BEFORE and not _INHERITED else []
    if "torch" in sys.modules and sys.modules["torch"].backends.cpu.get_cpu_capability() != "AVX2":
        late.append("torch")
    if not late:
        return None
    return (f"{' and '.join(late)} chose its kernels before lmf was imported; import lmf "
            "before torch and NumPy")


@functools.cache
def _warn_once(problem: str) -> None:
    warnings.warn(f"CPU numerics are not pinned ({problem}): CPU runs compute with this "
                  "machine's own kernels, so their numbers may differ from the committed ones; "
                  "run.json records it", RuntimeWarning, stacklevel=3)


def pinned() -> bool:
    """True when this process computes with the pinned kernels."""
    return _problem is None


def lock_digest() -> str | None:
    """sha256 of the repository's ``requirements.lock`` (the environment's recipe), if present."""
    from lmf.core.paths import repo_root

    file = repo_root() / "requirements.lock"
    return hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else None


def record() -> dict:
    """What computed this process's numbers, for ``run.json``: whether the pin holds (and why
    not), the variables in effect, the kernels each library reports, and the library builds."""
    import numpy as np
    import torch
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    from threadpoolctl import threadpool_info

    return {
        "version": NUMERICS_VERSION,
        "pinned": pinned(),
        "not_pinned_because": _problem,
        "environment": {name: os.environ.get(name) for name in PINNED},
        "cpu": platform.processor() or platform.machine(),
        "aten_capability": torch.backends.cpu.get_cpu_capability(),
        "mkldnn": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        "numpy_simd": [name for name in __cpu_dispatch__ if __cpu_features__[name]
                       and _enabled_numpy(name)],
        "blas": [{key: info.get(key) for key in ("internal_api", "version", "architecture",
                                                  "num_threads")}
                 for info in threadpool_info()],
        "builds": {"torch": torch.__version__, "numpy": np.__version__,
                   "torch_config": _torch_libraries(torch.__config__.show())},
        "lock_sha256": lock_digest(),
    }


def _enabled_numpy(feature: str) -> bool:
    enabled = os.environ.get("NPY_ENABLE_CPU_FEATURES")
    disabled = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").split()
    return feature not in disabled and (enabled is None or feature in enabled.split())


def _torch_libraries(config: str) -> list[str]:
    """The math libraries of torch's build summary (MKL, oneDNN, OpenMP lines)."""
    return [line.strip(" -") for line in config.splitlines()
            if any(word in line for word in ("Math Kernel", "MKL-DNN", "oneDNN", "OpenMP"))]


def probe() -> dict[str, str]:
    """A digest (first 16 hex digits of sha256) of each kind of computation the runs make, on
    fixed random inputs: MKL's GEMMs (``linear``, ``matmul``), oneDNN's convolutions of each
    implementation kind (3x3, strided, 1x1, depthwise, transposed) forward and backward, the
    dilated convolution of ``lmf.core.atrous`` (on oneDNN itself it differs by CPU), ATen's
    BatchNorm, pooling, resizing and softmax, NumPy's and OpenBLAS's loops and products, and
    scikit-learn's PCA, t-SNE and silhouettes. Two CPUs that give the same digests compute these
    alike to the last bit; ``tests/core/test_portable_numerics.py`` compares this CPU with
    emulated ones."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.metrics import silhouette_samples

    from lmf.core.atrous import PortableDilatedConv2d

    def digest(*arrays) -> str:
        h = hashlib.sha256()
        for a in arrays:
            a = a.detach().contiguous().numpy() if isinstance(a, torch.Tensor) else a
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:16]

    def forward_backward(layer: type[torch.nn.Module], shape: tuple[int, ...], *args,
                         **kwargs) -> str:
        torch.manual_seed(0)
        layer = layer(*args, **kwargs)
        inputs = torch.randn(shape, requires_grad=True)
        outputs = layer(inputs)
        (outputs.float() ** 2).mean().backward()
        return digest(outputs, inputs.grad, *(p.grad for p in layer.parameters()))

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator = torch.Generator().manual_seed(0)
        left, right = (torch.randn(shape, generator=generator) for shape in ((96, 200), (200, 72)))
        images = torch.randn(4, 16, 32, 32, generator=generator)
        digests = {
            "linear": forward_backward(torch.nn.Linear, (64, 512), 512, 10),
            "matmul": digest(left @ right),
            "conv3x3": forward_backward(torch.nn.Conv2d, (8, 64, 16, 16), 64, 64, 3, padding=1),
            "conv_strided": forward_backward(torch.nn.Conv2d, (8, 3, 32, 32), 3, 24, 3, stride=2,
                                             padding=1),
            "conv1x1": forward_backward(torch.nn.Conv2d, (8, 64, 16, 16), 64, 128, 1),
            "conv_depthwise": forward_backward(torch.nn.Conv2d, (8, 64, 16, 16), 64, 64, 3,
                                               padding=1, groups=64),
            "conv_transposed": forward_backward(torch.nn.ConvTranspose2d, (4, 32, 8, 8), 32, 16, 2,
                                                stride=2),
            "conv_dilated": forward_backward(PortableDilatedConv2d, (8, 128, 8, 8), 128, 96, 3,
                                             padding=4, dilation=4),
            "batchnorm": forward_backward(torch.nn.BatchNorm2d, (8, 32, 16, 16), 32),
            "pool_resize_softmax": digest(
                F.max_pool2d(images, 2), F.adaptive_avg_pool2d(images, 1),
                F.interpolate(images, size=(24, 24), mode="bilinear", antialias=True),
                F.log_softmax(images, 1)),
        }
    finally:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    points = rng.normal(size=(300, 64)).astype(np.float32)
    labels = rng.integers(0, 5, len(points))
    digests.update({
        "numpy": digest(points @ points.T, points.sum(0), np.exp(points), np.sort(points, 0)),
        "pca": digest(PCA(10, random_state=0).fit_transform(points)),
        "tsne": digest(TSNE(2, random_state=0, init="pca", perplexity=20,
                            max_iter=250).fit_transform(points)),
        "silhouette": digest(silhouette_samples(points, labels)),
    })
    return digests

