"""The `rdds credential` and `rdds audit` subcommands (registered in `rdds.cli`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    """--data-dir, defaulting to $RDDS_DATA_DIR."""
    default = os.environ.get("RDDS_DATA_DIR")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(default) if default else None,
        required=default is None,
        help="credentials and disclosure log directory (default $RDDS_DATA_DIR)",
    )
