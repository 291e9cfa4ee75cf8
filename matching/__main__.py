"""Entry point for ``python -m matching``."""

import sys

from .cli import main

sys.exit(main())
