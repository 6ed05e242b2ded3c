"""`python -m claude_logging` runs the command line."""

from __future__ import annotations

import sys

from claude_logging._cli import main

sys.exit(main())
