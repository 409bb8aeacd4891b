"""Run every benchmark in this folder (``make bench``); each prints its own Markdown table."""

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n## {script.stem}\n", flush=True)
        sys.argv = [str(script)]
        runpy.run_path(str(script), run_name="__main__")
