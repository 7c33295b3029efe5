"""Money is an integer number of rupiah; this module shows it the Indonesian way."""

from __future__ import annotations


def format_rupiah(value: int | None) -> str:
    """Rp 15.000 (dot as thousands separator, no decimals), whatever the UI language."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    return f"{sign}Rp {abs(int(value)):,}".replace(",", ".")
