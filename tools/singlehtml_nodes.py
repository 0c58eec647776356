"""Sphinx extension: render sphinx-proof's blocks in the single-page HTML build.

sphinx-proof 0.2 registers its nodes (theorem, definition, proof, ...) for the ``html`` builder
only. Sphinx falls back to ``html`` handlers for ``singlehtml`` only when no extension registered
any ``singlehtml`` handler, and sphinx-exercise does, so the single-page build stops with
"unknown node type: definition_node". This copies every ``html`` handler that has no
``singlehtml`` counterpart. It changes nothing in the ordinary HTML build.

Used by tools/make_pdf.py (the printable book); loaded through ``_config.yml``.
"""

from __future__ import annotations

from typing import Any


def _copy_html_handlers(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, pair in handlers.get("html", {}).items():
        single.setdefault(node, pair)


def setup(app) -> dict[str, Any]:
    app.connect("builder-inited", _copy_html_handlers)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
