"""`python -m rdds` runs the rdds command."""

import sys

from rdds.cli import main

sys.exit(main())
