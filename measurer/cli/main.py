"""Entry point of the ``measurer`` command: subcommands, or the GUI when none is given."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from measurer import __version__
from measurer.cli.errors import CliError

#: Modules of this package that are not subcommands.
_NOT_COMMANDS = {"main", "errors", "common"}


def _command_modules() -> list:
    """Every module in ``measurer.cli`` that defines ``register(subparsers)``."""
    import measurer.cli as package

    modules = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in _NOT_COMMANDS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"measurer.cli.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return modules


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every subcommand registered."""
    parser = _Parser(
        prog="measurer",
        description="Measure features in micrographs and masks. "
        "Without a subcommand, opens the GUI (optionally with IMAGE files).",
    )
    parser.add_argument("--version", action="version", version=f"measurer {__version__}")
    parser.add_argument(
        "--sample",
        nargs="?",
        const="layered_micrograph.png",
        metavar="NAME",
        help="open a bundled sample image in the GUI (default: layered_micrograph.png)",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    for module in _command_modules():
        module.register(sub)
    return parser


def _run_gui(images: Sequence[str]) -> int:
    # Imported here so that the CLI never loads Qt.
    from measurer.gui.app import run_app

    return run_app(list(images))


def _sample_path(name: str) -> str:
    from measurer.io.samples import sample_paths

    samples = sample_paths()
    if name not in samples:
        raise CliError(f"no sample named {name!r}; samples: {', '.join(samples)}")
    return str(samples[name])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        command_names = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
        if not argv or (argv[0] not in command_names and not argv[0].startswith("-")):
            missing = [a for a in argv if not Path(a).exists()]
            if missing:
                raise CliError(
                    f"{missing[0]!r} is neither a command ({', '.join(sorted(command_names))}) "
                    "nor an existing file"
                )
            return _run_gui(argv)
        args = parser.parse_args(argv)
        if args.command is None:
            return _run_gui([_sample_path(args.sample)] if args.sample else [])
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"measurer: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("measurer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
