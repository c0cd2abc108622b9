"""``python -m measurer``: same as the ``measurer`` command."""

from measurer.cli.main import main

raise SystemExit(main())
