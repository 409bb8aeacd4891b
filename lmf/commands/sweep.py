"""``lmf sweep``: run a grid (resumable) or show its status.

    lmf sweep GRID [--profile P] [--launcher L] [--results DIR] [--jobs N] [--seeds N]
                   [--runs-per-gpu N] [--partition P --time MIN --gpus N --cpus N --mem GB
                    --array-parallelism N --slurm-config YAML]
    lmf sweep status GRID [--profile P] [--results DIR] [--seeds N]

GRID is ``paper``, ``hparams`` or ``extended``; LAUNCHER ``local``, ``submitit-local``, ``slurm``
or ``dry``. Failed runs are listed (config, error, log path) and the exit status is 2.
"""

from __future__ import annotations

import argparse

from lmf.commands import help_text
from lmf.core.errors import ConfigError
from lmf.sweep import GRIDS, LAUNCHERS, ensure, status


def _sweep(args) -> int:
    if args.grid == "status":
        if args.status_grid is None:
            raise ConfigError(f"lmf sweep status needs a grid: one of {', '.join(GRIDS)}")
        return _status(args)
    if args.status_grid is not None:
        raise ConfigError(f"unexpected argument {args.status_grid!r} after the grid")
    options = {"partition": args.partition, "time": args.time, "gpus": args.gpus,
               "cpus": args.cpus, "mem": args.mem, "array_parallelism": args.array_parallelism,
               "slurm_config": args.slurm_config}
    options = {k: v for k, v in options.items() if v is not None}
    if args.runs_per_gpu is not None:
        options["runs_per_gpu"] = args.runs_per_gpu
    frame = ensure(args.grid, profile=args.profile, launcher=args.launcher, results=args.results,
                   jobs=args.jobs, seeds=args.seeds, **options)
    if args.launcher != "dry":
        print(f"{len(frame)} finished run(s) of grid {args.grid!r} ({args.profile})")
    return 0


def _status(args) -> int:
    counts = status(args.status_grid, profile=args.profile, results=args.results, seeds=args.seeds)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("sweep", help="run a grid of training runs (resumable)",
                                   description=help_text(__doc__),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grid", choices=(*GRIDS, "status"),
                        help="the grid to run, or 'status' followed by a grid")
    parser.add_argument("status_grid", nargs="?", choices=GRIDS, help=argparse.SUPPRESS)
    parser.add_argument("--profile", default="cpu", help="profile (default cpu)")
    parser.add_argument("--results", default=None, help="run store (default results/)")
    parser.add_argument("--seeds", type=int, default=1, help="repeat the grid over N seeds")
    parser.add_argument("--launcher", default="local", choices=tuple(LAUNCHERS),
                        help="where the runs train: local processes, submitit, SLURM, or dry "
                             "(print the plan only); default local")
    parser.add_argument("--jobs", type=int, default=None,
                        help="parallel runs (default: one per CPU core without a GPU, one per GPU; "
                             "on SLURM as many as the scheduler allows)")
    parser.add_argument("--runs-per-gpu", type=int, default=None, help="local: runs sharing a GPU")
    slurm = parser.add_argument_group("slurm launcher")
    slurm.add_argument("--partition", help="SLURM partition")
    slurm.add_argument("--time", type=int, help="minutes per run")
    slurm.add_argument("--gpus", type=int, help="GPUs per run")
    slurm.add_argument("--cpus", type=int, help="CPUs per run")
    slurm.add_argument("--mem", type=float, help="memory per run, GB")
    slurm.add_argument("--array-parallelism", type=int, help="runs at once")
    slurm.add_argument("--slurm-config", help="YAML file with the options above")
    parser.set_defaults(func=_sweep)
