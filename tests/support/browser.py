"""Driving the portal in Debian's Chromium through Playwright: the launch flags this machine needs,
an in-process server for an app, axe-core injected into a page, and screenshots for people."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from tests.support.http import in_thread

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The app on a free local port in a thread, for as long as the block runs; its base URL."""
    with in_thread(make_server("127.0.0.1", 0, app, threaded=True)) as port:
        yield f"http://127.0.0.1:{port}"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """What axe-core (WCAG 2.x A and AA rules) finds on the page as it stands, one entry a rule."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa',
            'best-practice']})).violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"""
    )
    return found


def overflows(page: Any) -> bool:
    """Whether the page is wider than the screen (a phone would scroll it sideways)."""
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"))


def shot(page: Any, name: str) -> None:
    """A full-page screenshot under test-output/screenshots (not committed)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
