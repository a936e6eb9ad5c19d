"""The aiohttp side: the HTTP API under /api, Mini App pages under /app, static files."""
