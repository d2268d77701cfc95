"""Storing uploaded materials: type decided by the file's content, size limited, random names on disk.

The browser's declared content type and the file name's extension are both under the uploader's control,
so neither is trusted: the first bytes decide (PDF ``%PDF-``, JPEG ``FF D8 FF``, PNG's 8-byte signature), and
the extension of both the stored and the recorded name is the one of that type. A PDF is also parsed and
refused when it carries active content or cannot be read (:mod:`web.pdfcheck`). Files go to
``instance/uploads/<2 hex>/<32 hex><ext>``, outside every static folder, and are only ever sent back as
downloads to people allowed to see the case.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .pdfcheck import PdfRefused, check_pdf

log = logging.getLogger(__name__)

SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
"""Accepted formats: leading bytes, content type, stored extension."""

ACCEPT_ATTR = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
"""Hint for the file picker (the server decides by content regardless)."""


class UploadRejected(ValueError):
    """The upload is refused; ``zh``/``en`` say why in words the uploader can act on."""

    def __init__(self, zh: str, en: str, status: int = 422) -> None:
        super().__init__(zh)
        self.zh = zh
        self.en = en
        self.status = status

    def message(self, lang: str) -> str:
        """The reason in ``lang`` (``zh`` or ``en``)."""
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class StoredFile:
    """A file written to the upload folder."""

    stored_name: str
    content_type: str
    size: int
    sha256: str


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) for the file's first bytes, or None when it is not an accepted format."""
    for magic, content_type, ext in SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    return None


def store(stream: BinaryIO, folder: str | os.PathLike, max_bytes: int) -> StoredFile:
    """Check and write one upload; nothing is left on disk when it is refused (a PDF is checked once written)."""
    head = stream.read(8)
    if not head:
        raise UploadRejected("文件为空，请重新选择文件", "The file is empty")
    kind = sniff(head)
    if kind is None:
        raise UploadRejected("只接受 PDF、JPEG 或 PNG 文件（按文件内容识别，改扩展名无效）",
                             "Only PDF, JPEG or PNG files are accepted (checked by content, not by name)")
    content_type, ext = kind
    name = secrets.token_hex(16) + ext
    target_dir = Path(folder) / name[:2]
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / name
    digest = hashlib.sha256(head)
    size = len(head)
    try:
        with open(target, "xb") as out:
            out.write(head)
            while chunk := stream.read(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRejected(f"文件超过 {max_bytes // (1024 * 1024)} MB，请压缩或拆分后上传",
                                         f"The file is larger than {max_bytes // (1024 * 1024)} MB", status=413)
                digest.update(chunk)
                out.write(chunk)
        if content_type == "application/pdf":
            try:
                check_pdf(target)
            except PdfRefused as err:
                log.info("PDF upload refused: %s", err.found)
                raise UploadRejected(err.zh, err.en) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return StoredFile(stored_name=name, content_type=content_type, size=size, sha256=digest.hexdigest())


def sniff_file(path: str | os.PathLike) -> str:
    """The content type of a stored file by its first bytes (``application/octet-stream`` when none fits).

    Downloads go by the bytes, as uploads do, so a file recorded before names followed the content, or one
    changed on disk since, is still sent as what it is.
    """
    with open(path, "rb") as f:
        kind = sniff(f.read(8))
    return kind[0] if kind else "application/octet-stream"


def path_of(folder: str | os.PathLike, stored_name: str) -> Path:
    """Where a stored file lives (names are generated here, so they contain no path separators)."""
    if not stored_name or "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise ValueError("invalid stored name")
    return Path(folder) / stored_name[:2] / stored_name


def discard(folder: str | os.PathLike, stored_name: str) -> None:
    """Remove a stored file whose database row could not be written."""
    path_of(folder, stored_name).unlink(missing_ok=True)


def safe_display_name(name: str) -> str:
    """The uploader's file name reduced to its last path component, for display and download names."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:200] or "file"
