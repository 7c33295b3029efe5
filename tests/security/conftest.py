"""Fixtures shared by the security walks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.extensions import limiter


@pytest.fixture
def no_rate_limits() -> Iterator[None]:
    """Rate limits off for a walk: it posts every authentication form within seconds, and the
    limits (tested on their own) would answer 429 before the access decision is reached."""
    before = limiter.enabled
    limiter.enabled = False
    yield
    limiter.enabled = before
