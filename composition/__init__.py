"""The composition root: the only package that knows every other one.

``python -m bot`` imports it; nothing else does (``make lint`` checks it). It builds the
settings' services, the features' bus reactions, the bot and the ports it lends the services,
the aiohttp app and the Socket.IO hub, and runs them in one event loop (:class:`Server`).
"""

from composition.server import Server

__all__ = ["Server"]
