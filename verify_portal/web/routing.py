"""URL rules whose builders are compiled on first use (Flask's `url_rule_class`).

werkzeug turns each rule into two generated Python functions that build its URL (for `url_for`),
parsing and compiling their source as the rule is added: a quarter to half a millisecond per rule
here, most of the time it takes to make the app. Matching a request never uses them, and a worker
builds the URLs of a few endpoints only. Each rule below compiles a builder the first time its
endpoint's URL is built, from the same rule, so the URLs are the ones werkzeug would build.

It overrides werkzeug's private `Rule._compile_builder` (werkzeug 3.1). Should a later werkzeug
stop calling it, the builders are compiled eagerly again: slower, the same URLs.
tests/verify_portal/web/test_routing.py compares every route's URL with werkzeug's own rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazyRule(Rule):
    """A werkzeug rule whose URL builders are compiled when first called."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        # werkzeug binds what this returns to the rule (`__get__`): the stand-in takes the rule
        compile_builder = super()._compile_builder
        compiled: list[Callable[..., tuple[str, str]]] = []  # filled on the first call

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            if not compiled:  # two threads may both compile: the same function, harmless
                compiled.append(compile_builder(append_unknown).__get__(rule, None))
            return compiled[0](*args, **kwargs)

        return build
