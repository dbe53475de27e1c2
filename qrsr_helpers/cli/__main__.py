"""``python -m qrsr_helpers.cli``: the ``qrsr`` command."""

from . import main

raise SystemExit(main())
