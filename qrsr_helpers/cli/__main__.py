"""``python -m qrsr_helpers.cli``: the ``qrsr`` command."""

import sys

from . import main

sys.exit(main())
