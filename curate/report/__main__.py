"""``python -m curate.report OUT``: the same as ``curate report OUT``."""

import sys

from curate.report import main_report

sys.exit(main_report())
