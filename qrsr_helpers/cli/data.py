"""``qrsr data``: generate (or find cached) HR/LR pairs for a profile."""

from __future__ import annotations

import argparse

from ..config import get_config


def run(args: argparse.Namespace) -> int:
    from ..data.pairs import load_or_generate

    config = get_config(args.profile)
    pairs = load_or_generate(config, args.purpose, n=args.n)
    print(f"{len(pairs)} {args.purpose} pairs, HR {pairs.hr.shape[1:]}, LR {pairs.lr.shape[1:]} in {config.data_dir}")
    return 0
