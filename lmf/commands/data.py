"""``lmf data``: list, check, download and prepare datasets.

    lmf data list
    lmf data check NAME [--root DIR]
    lmf data download NAME [--root DIR] [--size 28]
    lmf data prepare NAME [--root DIR] [--split paper|group] [--size 224] [--seed 0]
                          [--on-error fail|skip] [--workers N]

``check`` exits 1 when it finds a problem (wrong class counts, unreadable images); ``download``
exits 1 with the manual steps when it cannot fetch the data itself. Errors in the layout end in
one line on stderr and exit status 2 (``lmf.cli``).
"""

from __future__ import annotations

import argparse

from lmf.commands import help_text
from lmf.core.errors import DataError


def _list(args) -> int:
    from lmf.data.registry import DATASETS, default_root, get_source

    for name in DATASETS:
        if name == "medmnist":
            print(f"{'medmnist:<flag>':16s} a MedMNIST set through the medmnist package, "
                  f"e.g. medmnist:dermamnist")
            continue
        source = get_source(name)
        print(f"{name:16s} {source.summary}")
        if source.kaggle:
            print(f"{'':16s} Kaggle {source.kaggle}")
        if source.on_disk:
            print(f"{'':16s} default root {default_root(source)}")
    return 0


def _check(args) -> int:
    from lmf.classification.dataset_check import check

    report = check(args.name, args.root, progress=not args.quiet)
    print(report.counts.fillna("").to_string(index=False))
    for problem in report.problems:
        print(f"problem: {problem}")
    verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"{args.name}: {int(report.counts['found'].sum())} images, {verdict}")
    return 0 if report.ok else 1


def _download(args) -> int:
    from lmf.data.download import download, manual_steps
    from lmf.data.registry import get_source

    if args.name == "digits_lt":
        print("digits_lt is embedded in scikit-learn: nothing to download")
        return 0
    try:
        where = download(args.name, args.root, resolution=args.size)
    except DataError as error:
        print(manual_steps(args.name, args.root) if get_source(args.name).kaggle else error)
        return 1
    print(f"{args.name}: downloaded into {where}")
    return 0


def _prepare(args) -> int:
    from lmf.data import prepare
    from lmf.data.splits import split_leakage

    data = prepare(args.name, args.root, split=args.split, size=args.size, seed=args.seed,
                   on_error=args.on_error, workers=args.workers, progress=not args.quiet)
    table = data.index.pivot_table(index="class_name", columns="split", values="label",
                                   aggfunc="size", fill_value=0)
    print(table.reindex(columns=["train", "val", "test"], fill_value=0).to_string())
    print(f"{data!r}\ncache: {data.cache_dir}")
    if data.split_file:
        print(f"split: {data.split_file}")
    leakage = split_leakage(data.index["group"], data.index["split"])
    if leakage["multi_image_groups"]:
        print(f"groups: {leakage['groups']}, spread over train and test: "
              f"{leakage['leaked_groups']} ({leakage['leaked_test_images']} test images)")
    for sample_id, reason in data.skipped.items():
        print(f"skipped: {sample_id} ({reason})")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("data", help="list, check, download and prepare datasets",
                                   description=help_text(__doc__),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    help="what to do with the datasets")

    listing = actions.add_parser("list", help="the datasets lmf knows")
    listing.set_defaults(func=_list)

    def dataset_parser(name: str, help: str, func) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help)
        sub.add_argument("name", metavar="NAME", help="dataset (see: lmf data list)")
        sub.add_argument("--root", help="the unpacked dataset (default: data/<NAME>)")
        sub.set_defaults(func=func)
        return sub

    checking = dataset_parser("check", "check layout, class counts and every image", _check)
    checking.add_argument("--quiet", action="store_true", help="no progress bar")
    fetching = dataset_parser("download", "download a dataset (Kaggle API or medmnist)",
                              _download)
    fetching.add_argument("--size", type=int, default=28, help="MedMNIST resolution")
    preparing = dataset_parser("prepare", "split the dataset and cache resized images",
                               _prepare)
    preparing.add_argument("--split", choices=("paper", "group"), default="paper",
                           help="paper: per image, as published; group: patients/lesions kept "
                                "whole (default: paper)")
    preparing.add_argument("--size", type=int, default=224, help="image side in px")
    preparing.add_argument("--seed", type=int, default=0, help="seed of the split")
    preparing.add_argument("--on-error", choices=("fail", "skip"), default="fail",
                           help="what to do with an unreadable image")
    preparing.add_argument("--workers", type=int, help="decoding threads")
    preparing.add_argument("--quiet", action="store_true", help="no progress bar")
