"""The service's Jinja templates (diploma and verification page), autoescaped."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

templates = Environment(
    loader=PackageLoader("fursa.certification", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
