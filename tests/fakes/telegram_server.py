"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the real PTB client.

The real `python-telegram-bot` Application is pointed at it through `base_url`, so the adapter is
exercised over HTTP exactly as in production: form-urlencoded, JSON and multipart bodies, update
queues with offsets, 429/403 answers, and files users send (`getFile` plus the download URL under
`base_file_url`). Every call is recorded; tests wait on `wait_for_calls` (an asyncio.Condition)
instead of sleeping.

Like the real Bot API, getUpdates with an `offset` confirms every update before it and forgets them
(`confirmed` is the highest confirmed update_id); unconfirmed updates come back on the next call. It can
misbehave on request: answer late (`answer_late`: the message is delivered at once, the answer comes
after the client has given up), refuse with 429 + retry_after, 403, 400 or 5xx, or hold sends
(`hold_sends`: requests wait unprocessed — a request whose client went away meanwhile is never
delivered).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes import telegram_rules

# Parameters that PTB sends JSON-encoded inside a form field.
_JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "entities", "scope", "link_preview_options"}
_SEND_METHODS = {"sendMessage", "sendDocument", "sendPhoto"}
_IDLE_POLL_WAIT = 0.2  # an empty getUpdates answers after at most this long


@dataclass
class ApiCall:
    """One recorded Bot API request: method, decoded parameters, uploaded files, HTTP status."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 200


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None = None
    parameters: dict[str, Any] | None = None  # other ResponseParameters, e.g. migrate_to_chat_id
    late: float = 0.0  # > 0: deliver, then answer only after this many seconds


class FakeTelegramServer:
    """A small, scriptable stand-in for api.telegram.org. Use as `async with FakeTelegramServer() as s`."""

    def __init__(self, token: str = "123:TEST", bot_username: str = "htx_test_bot",
                 bot_id: int = 999, port: int = 0) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.calls: list[ApiCall] = []
        self._updates: list[dict[str, Any]] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._chat_types: dict[int, str] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes)
        self._changed = asyncio.Event()  # replaced after every set(): one "something happened" signal
        self._runner: web.AppRunner | None = None
        self.confirmed = 0  # highest update_id confirmed by a getUpdates offset
        self._sends_open = asyncio.Event()
        self._sends_open.set()
        self._all_failures: deque[_Failure] = deque()  # for any chat, before the per-chat ones
        self.port = port  # 0: any free port (tests); the real one is known after start()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- inspecting calls --------------------------------------------------------------------

    def calls_to(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        """Recorded calls of one method (optionally to one chat), in order."""
        return [
            c for c in self.calls
            if c.method == method and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0,
                             chat_id: int | None = None) -> list[ApiCall]:
        """Wait until at least `count` calls of `method` were recorded; fail the test after `timeout`."""
        if not await self._wait_until(lambda: len(self.calls_to(method, chat_id)) >= count, timeout):
            seen = [c.method for c in self.calls]
            raise AssertionError(f"expected {count} {method} call(s) within {timeout}s; saw {seen}")
        return self.calls_to(method, chat_id)

    async def _wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wake on every recorded change until `predicate` holds; False when `timeout` ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of successful sendMessage calls."""
        return [str(c.params["text"]) for c in self.calls_to("sendMessage", chat_id) if c.status == 200]

    # -- scripting updates -------------------------------------------------------------------

    def enqueue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update for getUpdates (an update_id is assigned when missing)."""
        update.setdefault("update_id", next(self._update_ids))
        chat = (update.get("message") or {}).get("chat")
        if chat:
            self._chat_types[int(chat["id"])] = chat["type"]
        self._updates.append(update)
        self._notify()
        return update

    def text_update(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        """Build (without queueing) a text-message update; see `message_dict` for the options."""
        return {"update_id": next(self._update_ids), "message": self.message_dict(chat_id, text, **kwargs)}

    def enqueue_text(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.enqueue_update(self.text_update(chat_id, text, **kwargs))

    def enqueue_command(self, chat_id: int, command: str, **kwargs: Any) -> dict[str, Any]:
        """Queue '/cmd[@bot] [args]' with the bot_command entity Telegram attaches to it."""
        length = len(command.split(maxsplit=1)[0])
        entities = [{"type": "bot_command", "offset": 0, "length": length}, *kwargs.pop("entities", [])]
        return self.enqueue_text(chat_id, command, entities=entities, **kwargs)

    def callback_update(self, chat_id: int, data: str, user_id: int | None = None,
                        first_name: str = "Lan") -> dict[str, Any]:
        """Build a button press on a message the bot sent earlier in `chat_id`."""
        bot_message = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": self._chat(chat_id), "from": self.bot_user(), "text": "…",
        }
        query = {
            "id": f"cbq-{next(self._callback_ids)}", "chat_instance": f"ci-{chat_id}",
            "from": self._user(user_id or abs(chat_id), first_name), "data": data, "message": bot_message,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def enqueue_callback(self, chat_id: int, data: str, **kwargs: Any) -> dict[str, Any]:
        return self.enqueue_update(self.callback_update(chat_id, data, **kwargs))

    def message_dict(self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Lan",
                     last_name: str | None = "Nguyễn", chat_type: str = "private",
                     entities: list[dict[str, Any]] | None = None,
                     reply_to_bot: bool = False) -> dict[str, Any]:
        """A Telegram Message dict as a user would send it (groups: pass chat_type="group")."""
        self._chat_types.setdefault(chat_id, chat_type)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "from": self._user(user_id or abs(chat_id), first_name, last_name),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if reply_to_bot:
            message["reply_to_message"] = {
                "message_id": next(self._message_ids), "date": int(time.time()),
                "chat": self._chat(chat_id, chat_type), "from": self.bot_user(), "text": "…",
            }
        return message

    def add_file(self, data: bytes, folder: str = "documents", extension: str = "") -> dict[str, Any]:
        """Store bytes that getFile and the download URL will serve; returns the file's ids."""
        n = next(self._file_ids)
        file_id = f"in-file-{n}"
        self._files[file_id] = (f"{folder}/file_{n}{extension}", data)
        return {"file_id": file_id, "file_unique_id": f"in-u-{n}", "file_size": len(data)}

    def enqueue_photo(self, chat_id: int, data: bytes, caption: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Queue a photo message: two sizes (a thumbnail, then `data` as the largest), optional caption."""
        thumb = self.add_file(data[:16], "photos", ".jpg")
        full = self.add_file(data, "photos", ".jpg")
        sizes = [{**thumb, "width": 90, "height": 60}, {**full, "width": 1280, "height": 853}]
        return self.enqueue_update({"message": self._media_message(chat_id, caption, photo=sizes, **kwargs)})

    def enqueue_document(self, chat_id: int, data: bytes, filename: str, mime: str, caption: str | None = None,
                         file_size: int | None = None, **kwargs: Any) -> dict[str, Any]:
        """Queue a document message; `file_size` overrides the size the message claims (too-big files)."""
        document = {**self.add_file(data), "file_name": filename, "mime_type": mime}
        if file_size is not None:
            document["file_size"] = file_size
        return self.enqueue_update({"message": self._media_message(chat_id, caption, document=document, **kwargs)})

    def _media_message(self, chat_id: int, caption: str | None, user_id: int | None = None,
                       chat_type: str = "private", **media: Any) -> dict[str, Any]:
        message = self.message_dict(chat_id, "", user_id=user_id, chat_type=chat_type)
        del message["text"]
        if caption:
            message["caption"] = caption
        return {**message, **media}

    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Trợ lý HTX", "username": self.bot_username}

    # -- scripting failures ------------------------------------------------------------------

    def answer_429(self, chat_id: int, retry_after: int = 3, count: int = 1) -> None:
        """The next `count` sends to `chat_id` get 429 Too Many Requests with parameters.retry_after."""
        description = f"Too Many Requests: retry after {retry_after}"
        self._fail(chat_id, count, _Failure(429, description, retry_after))

    def answer_403(self, chat_id: int, count: int = 1) -> None:
        """The next `count` sends to `chat_id` get 403 (the user blocked the bot)."""
        self._fail(chat_id, count, _Failure(403, "Forbidden: bot was blocked by the user"))

    def answer_400(self, chat_id: int, description: str = "Bad Request: chat not found",
                   count: int = 1) -> None:
        self._fail(chat_id, count, _Failure(400, description))

    def answer_migrated(self, chat_id: int, new_chat_id: int) -> None:
        """Sends to `chat_id` get 400 with parameters.migrate_to_chat_id (the group became a supergroup)."""
        failure = _Failure(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           parameters={"migrate_to_chat_id": new_chat_id})
        self._fail(chat_id, 1000, failure)

    def answer_5xx(self, chat_id: int, count: int = 1, status: int = 502) -> None:
        """The next `count` sends to `chat_id` fail with a server error (not delivered)."""
        self._fail(chat_id, count, _Failure(status, "Bad Gateway"))

    def answer_late(self, chat_id: int, delay: float, count: int = 1) -> None:
        """The next `count` sends to `chat_id` are delivered, but answered only after `delay` seconds."""
        self._fail(chat_id, count, _Failure(200, "", late=delay))

    def answer_429_any(self, retry_after: int = 1, count: int = 1) -> None:
        """The next `count` sends, to whichever chat, get 429 with retry_after (a flood limit)."""
        self._all_failures.extend([_Failure(429, f"Too Many Requests: retry after {retry_after}", retry_after)]
                                  * count)

    def hold_sends(self) -> None:
        """Send requests wait unprocessed until `release_sends()` (a stalled platform)."""
        self._sends_open.clear()

    def release_sends(self) -> None:
        self._sends_open.set()

    def _fail(self, chat_id: int, count: int, failure: _Failure) -> None:
        self._failures.setdefault(str(chat_id), deque()).extend([failure] * count)

    # -- HTTP --------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = ApiCall(method, params, files)
        refusal = telegram_rules.check_request(method, params)  # what the real Bot API refuses
        if refusal is not None:
            call.status = 400
            self._record(call)
            return _error(400, refusal)
        if method in _SEND_METHODS and not self._sends_open.is_set():
            await self._sends_open.wait()
            if request.transport is None or request.transport.is_closing():
                return web.Response(status=499)  # the client went away: never delivered
        failures = self._failures.get(str(params.get("chat_id")))
        failure = None
        if method in _SEND_METHODS and self._all_failures:
            failure = self._all_failures.popleft()
        elif method in _SEND_METHODS and failures:
            failure = failures.popleft()
        if failure is not None and failure.late:
            result = self._handlers()[method](params, files)  # delivered now, answered late
            self._record(call)
            await asyncio.sleep(failure.late)
            return web.json_response({"ok": True, "result": result})
        if failure is not None:
            call.status = failure.status
            self._record(call)
            return _error(failure.status, failure.description, failure.retry_after, failure.parameters)
        if method == "getFile" and str(params.get("file_id")) not in self._files:
            call.status = 400
            self._record(call)
            return _error(400, "Bad Request: invalid file_id")
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
        else:
            handler = self._handlers().get(method)
            result = handler(params, files) if handler else True
        self._record(call)
        return web.json_response({"ok": True, "result": result})

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], dict[str, tuple[str, bytes]]], Any]]:
        return {
            "getMe": lambda p, f: {**self.bot_user(), "can_join_groups": True,
                                   "can_read_all_group_messages": False, "supports_inline_queries": False},
            "getFile": lambda p, f: self._file_info(str(p["file_id"])),
            "sendMessage": lambda p, f: self._sent(p, text=p.get("text", "")),
            "sendDocument": lambda p, f: self._sent(p, document=self._file(f.get("document"), p)),
            "sendPhoto": lambda p, f: self._sent(p, photo=[{**self._file(f.get("photo"), p), "width": 1,
                                                            "height": 1}]),
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset - 1)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            await self._wait_until(lambda: bool(self._updates), min(float(params.get("timeout") or 0),
                                                                   _IDLE_POLL_WAIT))
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    def _sent(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": next(self._message_ids), "date": int(time.time()),
            "chat": self._chat(chat_id, self._chat_types.get(chat_id, "private")), "from": self.bot_user(),
            **content,
        }
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _file(self, upload: tuple[str, bytes] | None, params: dict[str, Any]) -> dict[str, Any]:
        name, data = upload or (str(params.get("document") or params.get("photo") or "file"), b"")
        n = len(self.calls)
        return {"file_id": f"file-{n}", "file_unique_id": f"u-{n}", "file_name": name, "file_size": len(data)}

    def _file_info(self, file_id: str) -> dict[str, Any]:
        path, data = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data), "file_path": path}

    async def _download(self, request: web.Request) -> web.Response:
        """GET {base_file_url}{token}/{file_path}: the bytes of a file a user sent."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self._record(ApiCall("download", {"file_path": path}))
        for stored_path, data in self._files.values():
            if stored_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    @staticmethod
    def _chat(chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "Lan"}
        return {"id": chat_id, "type": chat_type, "title": "Nhóm HTX"}

    @staticmethod
    def _user(user_id: int, first_name: str, last_name: str | None = None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        return user


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    """Decode query string, JSON, form-urlencoded or multipart parameters the way Telegram does."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "application/json":
        params.update(await request.json())
        return params, files
    if request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = (value.filename, value.file.read())
            else:
                params[key] = value
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            params[key] = json.loads(params[key])
    return params, files


def _error(status: int, description: str, retry_after: int | None = None,
           parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None or parameters:
        body["parameters"] = {**(parameters or {}), **({"retry_after": retry_after} if retry_after is not None else {})}
    return web.json_response(body, status=status)



async def _console(port: int) -> None:
    """Serve the fake on `port`; each stdin line is a message from chat 1 ("!payload" presses a
    button), and the bot's replies are printed with their buttons."""
    async with FakeTelegramServer(port=port) as server:
        print(f"fake Bot API: token {server.token}, base_url {server.base_url}", flush=True)
        while True:
            try:
                line = (await asyncio.to_thread(input, "> ")).strip()
            except EOFError:
                return
            before = len(server.calls_to("sendMessage", 1))
            if line.startswith("!"):
                server.enqueue_callback(1, line[1:])
            elif line.startswith("/"):
                server.enqueue_command(1, line)
            else:
                server.enqueue_text(1, line)
            try:
                await server.wait_for_calls("sendMessage", before + 1, timeout=15, chat_id=1)
            except AssertionError:
                print("(no reply within 15 s — is `htxbot run telegram` running?)")
            for call in server.calls_to("sendMessage", 1)[before:]:
                print(f"🤖 {call.params.get('text')}")
                for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", []):
                    print(*(f"   [{b['text']}]  !{b['callback_data']}" for b in row))


if __name__ == "__main__":
    import sys

    asyncio.run(_console(int(sys.argv[1]) if len(sys.argv) > 1 else 8081))
