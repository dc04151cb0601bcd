"""What every benchmark does with its figures: print them as JSON, and write them to --out if
asked."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the common --out option, described by the benchmark's docstring."""
    p = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--out", type=Path, default=None, help="Also write the JSON figures to this file."
    )
    return p


def emit(figures: dict, out: Path | None) -> None:
    text = json.dumps(figures, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n")
