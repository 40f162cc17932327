"""The Zalo Bot API client against the fake server on 127.0.0.1: calls, envelopes and error mapping."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import pytest

from bot.channels.zalo_api import (
    ZaloApi,
    ZaloApiError,
    ZaloAuthError,
    ZaloTransientError,
    _map_error,
)
from bot.core.channel import QuotaExceeded, RecipientBlocked, RetryLater
from tests.fakes.zalo_server import TOKEN, FakeZaloServer, text_update


@pytest.fixture
async def api(zalo_server: FakeZaloServer) -> AsyncIterator[ZaloApi]:
    async with ZaloApi(TOKEN, zalo_server.base_url) as client:
        yield client


async def test_get_me_returns_the_bot(api: ZaloApi) -> None:
    me = await api.get_me()
    assert me["account_name"] == "bot.htxfake"


async def test_wrong_token_is_a_clear_auth_error_without_the_token(zalo_server: FakeZaloServer) -> None:
    async with ZaloApi("999:wrong-secret", zalo_server.base_url) as bad:
        with pytest.raises(ZaloAuthError) as err:
            await bad.get_me()
    assert "HTXBOT_ZALO__TOKEN" in str(err.value)
    assert "wrong-secret" not in str(err.value)


async def test_get_updates_returns_one_bare_update_then_none_when_idle(
        api: ZaloApi, zalo_server: FakeZaloServer) -> None:
    sent = zalo_server.push_text("Xin chào", message_id="m-1")
    assert await api.get_updates(timeout=1) == sent
    assert await api.get_updates(timeout=1) is None  # HTTP 408: nothing new
    assert zalo_server.calls[-1].body == {"timeout": "1"}


async def test_a_consumed_update_can_come_back(api: ZaloApi, zalo_server: FakeZaloServer) -> None:
    first = zalo_server.push_text("Câu hỏi", message_id="m-7")
    assert await api.get_updates(timeout=1) == first
    zalo_server.redeliver_last()
    assert await api.get_updates(timeout=1) == first


async def test_webhook_calls_and_polling_exclusion(api: ZaloApi, zalo_server: FakeZaloServer) -> None:
    info = await api.set_webhook("https://bot.example.vn/zalo/webhook", "s3cret-token")
    assert info["url"] == "https://bot.example.vn/zalo/webhook"
    with pytest.raises(ZaloApiError) as err:  # getUpdates refused while a webhook is set: permanent
        await api.get_updates(timeout=1)
    assert not isinstance(err.value, RetryLater)
    await api.delete_webhook()
    assert await api.get_updates(timeout=1) is None


async def test_send_message_and_photo(api: ZaloApi, zalo_server: FakeZaloServer) -> None:
    sent = await api.send_message("chat-1", "Chào bạn")
    assert sent.message_id.startswith("sent-")
    await api.send_photo("chat-1", "https://example.vn/a.png", caption="Ảnh")
    await api.send_chat_action("chat-1")
    assert [c.method for c in zalo_server.calls] == ["sendMessage", "sendPhoto", "sendChatAction"]
    assert zalo_server.calls[1].body == {"chat_id": "chat-1", "photo": "https://example.vn/a.png", "caption": "Ảnh"}


async def test_texts_over_2000_characters_are_refused_before_sending(api: ZaloApi, zalo_server: FakeZaloServer) -> None:
    with pytest.raises(ValueError):
        await api.send_message("chat-1", "a" * 2001)
    assert zalo_server.calls == []


@pytest.mark.parametrize(("kind", "error"), [
    ("429", ZaloTransientError),
    ("500", ZaloTransientError),
    ("quota", QuotaExceeded),
    ("blocked", RecipientBlocked),
])
async def test_send_failures_map_to_core_delivery_errors(
        api: ZaloApi, zalo_server: FakeZaloServer, kind: str, error: type[Exception]) -> None:
    zalo_server.fail_next_sends(1, kind)
    with pytest.raises(error) as err:
        await api.send_message("chat-1", "Thông báo")
    assert TOKEN not in str(err.value)
    if kind == "429":
        assert isinstance(err.value, RetryLater) and err.value.retry_after == 2
    if kind == "quota":
        assert not isinstance(err.value, RetryLater)  # an exhausted plan must not be retried forever
    await api.send_message("chat-1", "Thông báo")  # the next one goes through


async def test_network_errors_are_transient_and_never_show_the_url(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    caplog.set_level(logging.DEBUG)
    async with ZaloApi(TOKEN, f"http://127.0.0.1:{port}/bot") as client:
        with pytest.raises(ZaloTransientError) as err:
            await client.get_updates(timeout=1)
    assert TOKEN not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(("method", "status", "body", "error"), [
    ("getMe", 404, {"ok": False, "error_code": 404, "description": "Not Found"}, ZaloAuthError),
    ("getMe", 403, {"ok": False, "error_code": 403, "description": "Forbidden"}, ZaloAuthError),
    ("getUpdates", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, ZaloAuthError),
    ("sendMessage", 200, {"ok": False, "error_code": 400, "description": "Invalid token"}, ZaloAuthError),
    ("sendMessage", 400, {"ok": False, "error_code": 400, "description": "Bad Request"}, ZaloApiError),
    ("sendMessage", 403, {"ok": False, "error_code": 403, "description": "Forbidden"}, RecipientBlocked),
    ("sendMessage", 403, {"ok": False, "error_code": 403, "description": "Vượt quá giới hạn hạn mức tin nhắn"},
     QuotaExceeded),
    ("sendMessage", 502, None, ZaloTransientError),
    ("sendMessage", 200, {"ok": False, "error_code": 503, "description": "busy"}, ZaloTransientError),
])
def test_error_mapping(method: str, status: int, body: dict[str, object] | None, error: type[Exception]) -> None:
    mapped = _map_error(method, status, body, "", token_check=method == "getMe")
    assert type(mapped) is error


def test_retry_after_header_is_honoured() -> None:
    mapped = _map_error("sendMessage", 429, None, "7", token_check=False)
    assert isinstance(mapped, RetryLater) and mapped.retry_after == 7


def test_recorded_update_shape_is_what_the_fake_sends() -> None:
    update = text_update("hi", message_id="x")
    assert update["event_name"] == "message.text.received"
    assert set(update["message"]) >= {"message_id", "date", "from", "chat", "text"}
