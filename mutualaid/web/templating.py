"""Helpers available in every template."""

from __future__ import annotations

from typing import Any

from flask import Flask


def aria(field: Any, hint: str | None, attrs: dict[str, Any]) -> dict[str, Any]:
    """``attrs`` plus what ties an input to its hint and errors for screen readers."""
    described = [f"{field.id}-hint"] if hint else []
    if field.errors:
        described.append(f"{field.id}-error")
        attrs = {**attrs, "aria-invalid": "true"}
    if described:
        attrs = {**attrs, "aria-describedby": " ".join(described)}
    return attrs


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(aria=aria)
