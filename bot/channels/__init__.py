"""Channel adapters: console, Telegram, Zalo, and the shared aiohttp web server."""
