"""``python -m mmthink``: the same command as ``mmthink`` (for an environment whose scripts are not on PATH)."""

import sys

from mmthink.cli import entry

sys.exit(entry())
