"""``lmf reproduce``: run the numbered notebooks in order and regenerate every figure and table.

Examples::

    lmf reproduce                          # cpu profile, everything (< 10 min on a laptop)
    lmf reproduce --only 01,04             # two notebooks
    lmf reproduce -p EPOCHS=2 -p SEEDS=3   # override notebook parameters
    lmf reproduce --profile paper --launcher slurm --results /scratch/lmf
    lmf reproduce --check                  # are the committed tables what the code makes?

Each notebook prints one line when it starts and one when it ends; while it trains, one line
per finished run (run 7/15 digits_lt-resnet50-lmf done in 42 s, led by the notebook's number
when several notebooks run at once: the cpu profile executes two at a time, see
--notebooks-at-once). --verbose shows the notebooks' own output instead, one at a time. An
override (-p) must be a parameter of a selected notebook, with a value of the type its
parameters cell gives it. A cell that runs past the timeout stops the notebook;
finished training runs are kept, so running the command again resumes from them.

--check reproduces into a temporary figures folder, leaves the committed figures/<profile>/
alone and compares its tables with them: one line per table that drifted (the largest
difference and where), a summary line, and exit status 1 when any table differs. With the
pinned CPU numerics the numbers must be equal; without them, within one unit of their last
printed digit.
"""

from __future__ import annotations

import argparse
import time

from lmf.classification.profiles import PAPER_PROFILES
from lmf.commands import help_text, positive_number
from lmf.core.errors import ConfigError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "reproduce", help="run the notebooks in order (papermill) and regenerate the figures",
        description=help_text(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu", choices=sorted(PAPER_PROFILES),
                        help="profile injected as PROFILE (default: cpu)")
    parser.add_argument("--only", metavar="NN[,NN]",
                        help="comma-separated notebook numbers, e.g. 01,04 (default: all)")
    parser.add_argument("--results", metavar="DIR",
                        help="run store (default: $LMF_RESULTS or results/); executed notebooks "
                             "go to DIR/notebooks/<profile>/")
    parser.add_argument("--launcher", metavar="L",
                        help="launcher for training runs (default: the notebooks' own, local)")
    parser.add_argument("--notebooks", metavar="DIR",
                        help="folder of numbered notebooks (default: notebooks/)")
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="override a notebook parameter (value read as YAML, e.g. "
                             "-p EPOCHS=2 -p SEEDS=3); repeatable")
    parser.add_argument("--timeout", type=positive_number, metavar="SECONDS",
                        help="longest time one cell may run (default: per profile, 30 min "
                             "for cpu)")
    parser.add_argument("--in-place", action="store_true",
                        help="execute the notebooks themselves (refreshes the committed cpu "
                             "outputs, without progress bars and timings)")
    parser.add_argument("--check", action="store_true",
                        help="reproduce into a temporary folder and compare the tables with the "
                             "committed ones; exit status 1 when any differs")
    parser.add_argument("--against", metavar="DIR",
                        help="with --check: the folder of committed tables (default: "
                             "figures/<profile>/ of the repository)")
    parser.add_argument("--notebooks-at-once", type=int, metavar="N", dest="at_once",
                        help="notebooks executed at the same time, started in order (default: "
                             "the profile's: 2 for cpu, 1 for the others)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="stream the notebooks' own output, one notebook at a time "
                             "(default: one line per finished training run)")
    parser.set_defaults(func=run)


def parse_parameters(items: list[str]) -> dict:
    """``["EPOCHS=2", "MODELS=[resnet50]"]`` -> ``{"EPOCHS": 2, "MODELS": ["resnet50"]}``."""
    import yaml

    parameters = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier() or not name.isupper():
            raise ConfigError(f"-p expects NAME=VALUE with an UPPER_CASE name, got {item!r}")
        parameters[name] = yaml.safe_load(value)
    return parameters


def run_check(args) -> int:
    """``--check``: reproduce into a temporary folder, print the tables that differ from the
    committed ones and a summary; 1 when any differs, else 0."""
    from lmf.core.regression import summary
    from lmf.reproduce import check

    reports = check(args.profile, against=args.against, only=args.only, results=args.results,
                    launcher=args.launcher, notebooks=args.notebooks, timeout=args.timeout,
                    parameters=parse_parameters(args.parameter), verbose=args.verbose,
                    at_once=args.at_once)
    for report in reports:
        if report.status != "same":
            print(report.line())
    print(summary(reports))
    return 1 if any(report.failed for report in reports) else 0


def run(args) -> int:
    from lmf.reproduce import reproduce

    if args.against and not args.check:
        raise ConfigError("--against goes with --check")
    if args.check:
        if args.in_place:
            raise ConfigError("--check writes into a temporary folder; drop --in-place")
        return run_check(args)
    start = time.perf_counter()
    done = reproduce(args.profile, only=args.only, results=args.results, launcher=args.launcher,
                     notebooks=args.notebooks, in_place=args.in_place, timeout=args.timeout,
                     parameters=parse_parameters(args.parameter), verbose=args.verbose,
                     at_once=args.at_once)
    print(f"{len(done)} notebook(s) in {time.perf_counter() - start:.0f} s")
    return 0
