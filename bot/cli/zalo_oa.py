"""`htxbot zalo-oa …`: authorise the Official Account once (OAuth v4 with PKCE), show the token state,
make a token encryption key, and run the OA channel on its own web server."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.fernet import Fernet

from bot.config import Config, ConfigError

log = logging.getLogger(__name__)
Handler = Callable[[Config, argparse.Namespace], int]


def register(sub: Any) -> dict[str, Handler]:
    """Add `zalo-oa` (connect, status, new-key, run) to the htxbot parser."""
    oa = sub.add_parser("zalo-oa", help="Zalo Official Account: connect, status, new-key, run")
    oas = oa.add_subparsers(dest="zalo_oa_command", required=True)
    connect = oas.add_parser("connect", help="authorise the OA (prints a URL, then reads the code back)")
    connect.add_argument("--listen", action="store_true",
                         help="wait for Zalo's redirect on this machine (redirect_uri must point here)")
    oas.add_parser("status", help="is there a usable token pair? (never prints tokens)")
    oas.add_parser("new-key", help="print a new value for HTXBOT_ZALO_OA__TOKEN_KEY")
    oas.add_parser("run", help="run the OA channel alone: webhook on the web server, replies, announcements")
    return {"zalo-oa": cmd_zalo_oa}


def cmd_zalo_oa(config: Config, args: argparse.Namespace) -> int:
    if args.zalo_oa_command == "new-key":
        print(Fernet.generate_key().decode())
        return 0
    _require(config)
    if args.zalo_oa_command == "status":
        return asyncio.run(_status(config))
    if args.zalo_oa_command == "run":
        return asyncio.run(_run(config))
    reader = _listen_for_code(config) if args.listen else _ask_for_code
    return asyncio.run(connect(config, reader))


def _require(config: Config) -> None:
    oa = config.zalo_oa
    missing = [key for key, value in (("app_id", oa.app_id), ("app_secret", oa.app_secret),
                                      ("token_key", oa.token_key)) if not value]
    if missing:
        raise ConfigError(f"zalo_oa.{missing[0]}: not set (HTXBOT_ZALO_OA__{missing[0].upper()}); "
                          "see docs/zalo-oa.md")


CodeReader = Callable[[str, str], Awaitable[str]]


async def connect(config: Config, read_code: CodeReader) -> int:
    """Show the consent URL, get the redirect back (`read_code(url, state)` returns the code), exchange
    it with the PKCE verifier and store the pair. Prints no token."""
    from bot.channels.zalo_oa_api import OAuthClient, OAuthError
    from bot.channels.zalo_oa_tokens import TokenCipher, TokenStore, consent_url, pkce_pair
    from bot.storage.db import Database

    oa = config.zalo_oa
    if not oa.redirect_uri:
        raise ConfigError("zalo_oa.redirect_uri: set the callback URL registered in the Zalo app")
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    url = consent_url(oa.oauth_base, oa.app_id, oa.redirect_uri, challenge, state)
    code = await read_code(url, state)
    if not code:
        print("No authorization code: nothing changed.", file=sys.stderr)
        return 1
    oauth = OAuthClient(oa.oauth_base, oa.app_id, oa.app_secret)
    try:
        pair = await oauth.exchange_code(code, verifier)
    except OAuthError as exc:
        print(f"Zalo refused the code ({exc}). Codes are single-use and valid 10 minutes: run connect again.",
              file=sys.stderr)
        return 1
    db = Database(config.database.url, schema=config.database.schema)
    try:
        await db.upgrade()
        await TokenStore(db, TokenCipher(oa.token_key), oauth).save(pair)
    finally:
        await db.close()
    print(f"Connected. The access token is valid until {pair.expires_at.isoformat()}; the bot refreshes it.")
    return 0


def code_from_answer(answer: str, state: str) -> str:
    """The code from a pasted redirect URL (its `state` must match) or from a bare code."""
    answer = answer.strip()
    if "code=" not in answer:
        return answer
    query = parse_qs(urlsplit(answer).query or answer)
    if query.get("state", [state])[0] != state:
        raise ConfigError("the redirect's state does not match this connect run: start again")
    return query.get("code", [""])[0]


async def _ask_for_code(url: str, state: str) -> str:
    print("1. Open this address as an admin of the Official Account and allow access:\n")
    print(f"   {url}\n")
    print("2. Zalo then opens the redirect address. Paste that whole address (or just its code) here:")
    answer = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return code_from_answer(answer, state)


def _listen_for_code(config: Config) -> CodeReader:
    """Serve `redirect_uri`'s path on web.host:web.port until Zalo redirects there (10 minutes)."""
    from aiohttp import web

    async def read(url: str, state: str) -> str:
        got: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def callback(request: web.Request) -> web.Response:
            if request.query.get("state") != state or not request.query.get("code"):
                return web.Response(status=400, text="Sai hoặc thiếu mã xác thực.")
            if not got.done():
                got.set_result(request.query["code"])
            return web.Response(text="Đã kết nối Zalo OA. Bạn có thể đóng trang này.")

        app = web.Application()
        app.router.add_get(urlsplit(config.zalo_oa.redirect_uri).path or "/", callback)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, config.web.host, config.web.port).start()
        print(f"Open this address as an admin of the Official Account and allow access:\n\n   {url}\n")
        print(f"Waiting for Zalo's redirect on {config.web.host}:{config.web.port} …", flush=True)
        try:
            return await asyncio.wait_for(got, 600)
        except TimeoutError:
            return ""
        finally:
            await runner.cleanup()

    return read


async def _status(config: Config) -> int:
    from bot.channels.zalo_oa_api import OAuthClient
    from bot.channels.zalo_oa_tokens import TokenCipher, TokenStore
    from bot.storage.db import Database

    oa = config.zalo_oa
    db = Database(config.database.url, schema=config.database.schema)
    try:
        await db.upgrade()
        ok, description = await TokenStore(db, TokenCipher(oa.token_key),
                                           OAuthClient(oa.oauth_base, oa.app_id, oa.app_secret)).status()
    finally:
        await db.close()
    print(description)
    return 0 if ok else 1


async def _run(config: Config) -> int:
    """The OA channel alone (as `htxbot run zalo_oa`): one web server, the announcement worker, until a signal."""
    from bot.runtime import Runtime, run_until_signalled

    await run_until_signalled(Runtime(config, ["zalo_oa"]).run())
    return 0
