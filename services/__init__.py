"""Domain rules shared by the bot, the HTTP API and the Socket.IO hub.

Nothing here imports aiohttp, aiogram or python-socketio: transports call these functions and map
their results and :mod:`services.core.errors` to their own wire format.
"""
