"""Files kept for their owners: generated ones (served through signed links where a channel has no
files) and pictures or files staff attach to an announcement draft."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import StoredFile


@dataclass(frozen=True)
class FileRecord:
    id: str
    channel: str
    owner_external_id: str
    filename: str
    mime: str
    data: bytes


async def store_file(s: AsyncSession, channel: str, owner: str, filename: str, mime: str, data: bytes) -> str:
    """Keep a file for its owner. The id is derived from the owner and the content, so sending the same file
    again (a dossier asked for twice, one announcement to many people) reuses the stored copy."""
    digest = hashlib.sha256(b"\0".join([channel.encode(), owner.encode(), filename.encode(), data])).hexdigest()
    file_id = digest[:32]
    if await s.get(StoredFile, file_id) is None:
        s.add(StoredFile(id=file_id, channel=channel, owner_external_id=owner, filename=filename, mime=mime,
                         data=data))
        await s.flush()
    return file_id


async def get_file(s: AsyncSession, file_id: str) -> FileRecord | None:
    row = await s.get(StoredFile, file_id)
    if row is None:
        return None
    return FileRecord(row.id, row.channel, row.owner_external_id, row.filename, row.mime, row.data)


async def delete_file(s: AsyncSession, file_id: str) -> None:
    """Forget a stored file (a draft's attachment once it is sent or abandoned); no-op if it is gone."""
    await s.execute(delete(StoredFile).where(StoredFile.id == file_id))
