"""Entry script of the packaged app: the ``measurer`` console script, frozen.

Same entry point as the console script (``measurer.cli.main:main``): subcommands print to the
terminal, no subcommand opens the GUI. ``freeze_support()`` lets worker processes started by
``multiprocessing`` (spawn or forkserver) run in a frozen executable, which has no ``python -c``.
"""

import multiprocessing

from measurer.cli.main import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
