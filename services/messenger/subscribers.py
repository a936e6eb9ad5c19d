"""The messenger's part of composition (``composition.wiring.FEATURES``): no reactions to other
features' events yet; it starts the sweep of presence left by dead processes."""

from __future__ import annotations

from services.core.context import Services
from services.messenger.presence import start_sweeping


def register(services: Services) -> None:
    start_sweeping(services)
