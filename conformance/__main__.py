"""Command-line entry for manual use: `python -m conformance URL ...` runs `rdds check`."""

from __future__ import annotations

import argparse
import sys

from conformance import cli


def main() -> int:
    """Parse the command line and run the checker."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance", description="Check RDAP and WHOIS servers for conformance."
    )
    cli.add_arguments(parser)
    return cli.run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
