"""Run every benchmark in this folder (``make bench``); each prints its own Markdown table.

``gpu_check.py`` joins them only where CUDA is present (it measures nothing without a GPU).
"""

import runpy
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    scripts = sorted(HERE.glob("bench_*.py"))
    if torch.cuda.is_available():
        scripts.append(HERE / "gpu_check.py")
    for script in scripts:
        print(f"\n## {script.stem}\n", flush=True)
        sys.argv = [str(script)]
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exit_:  # gpu_check ends with sys.exit(status)
            if exit_.code:
                raise
