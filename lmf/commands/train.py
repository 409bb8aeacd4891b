"""``lmf train``: train one configuration of a profile and print its run directory last.

Unspecified values come from the profile (``lmf.classification.profiles``); ``--dataset`` and
``--model`` take the profile's ids (the paper's table columns) or, for anything else, a dataset
source of ``lmf.data`` or an architecture of ``lmf.classification.models`` used as given.
"""

from __future__ import annotations

import argparse

from lmf.classification.profiles import PROFILES, get_profile
from lmf.commands import help_text
from lmf.core.errors import ConfigError

#: Loss parameters offered as flags (``lmf.losses.build_loss`` checks which a loss takes).
LOSS_FLAGS = ("alpha", "beta", "gamma", "s", "max_m", "drw_epoch", "lam", "delta")
#: RunConfig fields offered as flags, with their types and help texts.
RUN_FLAGS = {
    "epochs": (int, "training epochs (default: the profile's)"),
    "seed": (int, "seed of initialisation, batch order and augmentation (default: 23)"),
    "batch_size": (int, "images per batch"),
    "image_size": (int, "image side in px"),
    "lr": (float, "Adam learning rate"),
    "device": (str, "auto, cpu, cuda, cuda:N or mps (default: auto)"),
    "sampler": (str, "none, balanced (class-balanced) or sqrt (square-root) sampling"),
    "split": (str, "paper (per image) or group (patients/lesions kept whole)"),
    "threads": (int, "intra-op CPU threads the run trains with (default 1)"),
}
#: RunConfig fields of the starting weights, registered with their own actions.
WEIGHT_FLAGS = ("pretrained", "weights")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train one configuration (dataset × model × loss)",
        description=help_text(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu", choices=sorted(PROFILES),
                        help="profile whose values fill what is not given (default: cpu)")
    parser.add_argument("--dataset", help="dataset id of the profile (default: its first)")
    parser.add_argument("--model", help="model id of the profile (default: its first)")
    parser.add_argument("--loss", default="lmf",
                        help="loss name (default: lmf; lmf list losses shows them all)")
    parser.add_argument("--root", help="folder of the dataset (default: data/<name>)")
    for name in LOSS_FLAGS:
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, dest=name,
                            help=f"loss parameter {name}")
    for name, (kind, text) in RUN_FLAGS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, dest=name, help=text)
    parser.add_argument(
        "--pretrained", action=argparse.BooleanOptionalAction,
        help="start from the model's ImageNet weights (default: the profile's choice)")
    parser.add_argument(
        "--weights", metavar="PATH",
        help="local state_dict file to start from instead, e.g. torchvision's "
             "densenet121-a639ec97.pth (overrides --pretrained)")
    parser.add_argument("--results", help="root of the run store (default: results/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def config_from_args(args):
    """The RunConfig that ``args`` describe (profile values, then the flags given)."""
    profile = get_profile(args.profile)
    overrides = {name: getattr(args, name) for name in (*RUN_FLAGS, *WEIGHT_FLAGS)
                 if getattr(args, name) is not None}
    if args.weights is not None:
        from lmf.classification.models import check_weights_file

        check_weights_file(args.weights)  # before any data is prepared
    dataset_id = args.dataset or next(iter(profile.datasets))
    if dataset_id not in profile.datasets:
        overrides["dataset"], dataset_id = dataset_id, next(iter(profile.datasets))
    model_id = args.model or next(iter(profile.models))
    if model_id not in profile.models:
        overrides["model"], model_id = model_id, next(iter(profile.models))
    if args.root:
        overrides["data_root"] = args.root
    loss_params = {name: getattr(args, name) for name in LOSS_FLAGS
                   if getattr(args, name) is not None}
    if "drw_epoch" in loss_params:
        loss_params["drw_epoch"] = _whole_number("--drw-epoch", loss_params["drw_epoch"])
    return profile.config(dataset_id, model_id, args.loss, loss_params=loss_params, **overrides)


def _whole_number(flag: str, value: float) -> int:
    if not float(value).is_integer():
        raise ConfigError(f"{flag} must be a whole number of epochs, got {value:g}")
    return int(value)


def run(args) -> int:
    config = config_from_args(args)  # a bad value is refused before the training stack loads
    from lmf.classification.train import fit

    result = fit(config, results=args.results, quiet=args.quiet)
    test = result.metrics["test"]
    print(f"best epoch {result.metrics['best_epoch']}: test macro-F1 {test['macro_f1']:.4f}, "
          f"accuracy {test['accuracy']:.4f}")
    print(result.run_dir)
    return 0
