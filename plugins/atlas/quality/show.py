"""``python -m atlas.quality.show <table> <layer>``: print the SodaCL a quality scan would run."""

from __future__ import annotations

import argparse
import sys

from atlas import settings
from atlas.config import load_valid_specs
from atlas.quality.model import LAYERS
from atlas.quality.sodacl import build_checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atlas.quality.show", description=__doc__)
    parser.add_argument("table")
    parser.add_argument("layer", choices=LAYERS)
    args = parser.parse_args(argv)
    specs = load_valid_specs(settings.tables_dir())
    if args.table not in specs:
        parser.error(f"no valid table config '{args.table}' (have: {', '.join(sorted(specs))})")
    print(build_checks(specs[args.table], args.layer), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
