"""A local console channel: the same core, read from stdin and printed to stdout."""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import TextIO

from bot.app import App
from bot.core.types import ChannelCapabilities, ChatRef, Incoming, Reply

BANNER = "Trợ lý HTX — gõ câu hỏi rồi Enter. Gõ /menu để xem menu, /thoat hoặc Ctrl-D để thoát."
EXIT_WORDS = {"/thoat", "/exit", "/quit", "thoat"}


class ConsoleChannel:
    """Numbered options instead of buttons; files are written to a folder and their path printed."""

    name = "console"
    capabilities = ChannelCapabilities(max_text=100_000, buttons=False, documents=True, images=True)

    def __init__(self, out: TextIO, files_dir: Path) -> None:
        self.out = out
        self.files_dir = files_dir

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, ref: ChatRef, reply: Reply) -> None:
        self.show(reply)

    def show(self, reply: Reply) -> None:
        print(f"\n🤖 {reply.text}", file=self.out)
        if reply.attachment:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / reply.attachment.filename
            path.write_bytes(reply.attachment.data)
            print(f"📎 Đã lưu tệp: {path.resolve()}", file=self.out)
        self.out.flush()


async def run_console(app: App, stdin: TextIO, out: TextIO, user: str | None = None) -> None:
    """A REPL a person can use; also driven by tests through pipes."""
    channel = ConsoleChannel(out, Path(app.config.database.data_dir) / "files")
    app.register_channel(channel)
    user = user or getpass.getuser()
    interactive = stdin.isatty()
    print(BANNER, file=out)
    counter = 0
    while True:
        if interactive:
            print("\n> ", end="", file=out, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.rstrip("\n")
        if text.strip().lower() in EXIT_WORDS:
            break
        counter += 1
        incoming = Incoming(channel="console", chat_id=user, user_id=user, display_name=user, text=text)
        for reply in await app.handle(incoming):
            channel.show(reply)
    print("\nTạm biệt!", file=out)
