"""Refusing PDFs with active content: every uploaded PDF is parsed (pypdf) and searched before it is kept.

Reviewers open applicants' and objectors' files in their own PDF viewers, so a PDF that can run code or drop
files on their machines is refused however harmless the rest of it is. What counts as *active content*:

* **JavaScript** anywhere: a ``/JS`` entry (the code of a JavaScript action, or of a rendition's script), an
  action whose type ``/S`` is ``/JavaScript``, or a ``/JavaScript`` name tree (document-level scripts);
* **actions that start programs or move data**: ``/S`` of ``/Launch`` (runs a program or opens a file),
  ``/ImportData``, ``/SubmitForm`` (sends form data to a URL), ``/GoToE`` (opens an embedded document),
  ``/RichMediaExecute``;
* **embedded files**: an ``/EmbeddedFiles`` name tree, an embedded file stream (``/Type /EmbeddedFile``), a
  file specification carrying one (``/EF``), and file-attachment or rich-media annotations;
* **actions that run by themselves**: the catalog's ``/OpenAction`` when it is an action other than a plain
  go-to (a destination — "open at page 1", as office suites write — is fine), and additional actions
  (``/AA``) on the document, a page, an annotation or a form field, which fire on opening, closing, printing,
  typing or hovering;
* **XFA forms** (``/XFA`` in the interactive form): XML forms with their own scripting.

Ordinary hyperlinks (``/URI`` actions followed only on a click), links within the document, forms without
scripts, images and fonts are not active content. Every object of the file is looked at — those reachable
from the document and those only listed in its cross-reference table — since a viewer repairing a damaged file
may find objects the document does not reference. A file pypdf cannot parse, and an encrypted file it cannot
open with an empty password, is refused too: what cannot be inspected is not accepted.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

ACTIVE_TEXT = ("PDF 文件含有脚本或可执行内容（如 /JavaScript、/Launch、嵌入文件），出于安全原因不予接收。"
               "请导出为普通 PDF 后重新上传。",
               "The PDF contains scripts or executable content (such as /JavaScript, /Launch or embedded files) "
               "and is refused for security reasons. Export it as a plain PDF and upload it again.")
UNREADABLE_TEXT = ("无法读取该 PDF 文件（文件已损坏或不符合 PDF 格式），不予接收。请重新导出或扫描为 PDF 后上传。",
                   "The PDF file cannot be read (it is damaged or not a well-formed PDF) and is refused. "
                   "Export or scan it to PDF again and upload that.")
ENCRYPTED_TEXT = ("PDF 文件已加密，无法检查其内容，不予接收。请去除密码或导出为未加密的普通 PDF 后重新上传。",
                  "The PDF is encrypted, so its content cannot be checked; it is refused. Remove the password or "
                  "export an unencrypted plain PDF and upload that.")
"""(zh, en) of the three refusals."""

ACTIVE_KEYS = frozenset({"/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/AA", "/XFA"})
"""Dictionary entries whose mere presence is active content."""

ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE", "/RichMediaExecute"})
"""Action types (``/S``) refused wherever the action is (links, outlines, form fields, chained ``/Next``)."""

ACTIVE_SUBTYPES = frozenset({"/FileAttachment", "/RichMedia"})
"""Annotation subtypes (``/Subtype``) that carry a file or a player."""

MAX_OBJECTS = 200_000
"""Dictionaries and arrays looked at before a file counts as unreadable. Uploads are at most 10 MB by default, and
a real document of that size has a few ten thousand; this bounds the work a file of tiny objects can cause."""


class PdfRefused(ValueError):
    """The PDF is refused; ``zh``/``en`` say why, ``found`` names what was found (for the log)."""

    def __init__(self, text: tuple[str, str], found: str) -> None:
        super().__init__(found)
        self.zh, self.en = text
        self.found = found


_WS = rb"[\x00\t\n\x0c\r ]"  # PDF white space, as pypdf reads it
_HEADER = re.compile(rb"(\d{1,10})" + _WS + rb"+(\d{1,5})" + _WS + rb"+obj")
_HEADER_AT = re.compile(_WS + rb"*(\d{1,10})" + _WS + rb"+(\d{1,5})" + _WS + rb"+obj")


class _Reader(PdfReader):
    """pypdf's reader, except that once the file is open an object the file does not define is not searched for.

    For such a reference pypdf searches the whole file for the object, every time; a file of many thousand
    references to missing objects would keep a worker busy for minutes. A viewer finds nothing there either.
    """

    defined_only = False

    def get_object(self, indirect_reference: int | IndirectObject) -> Any:
        """The object, or None when the file does not define it (after :func:`_relocate`)."""
        if self.defined_only:
            ref = (indirect_reference if isinstance(indirect_reference, IndirectObject)
                   else IndirectObject(indirect_reference, 0, self))
            if not _defined(self, ref):
                return None  # what pypdf answers after searching in vain
        return super().get_object(indirect_reference)


def _defined(reader: PdfReader, ref: IndirectObject) -> bool:
    """True when the cross-reference table lists the object (in an object stream it lists)."""
    if ref.generation == 0 and ref.idnum in reader.xref_objStm:
        return reader.xref_objStm[ref.idnum][0] in reader.xref.get(0, {})
    return ref.idnum in reader.xref.get(ref.generation, {})


def _relocate(reader: PdfReader, data: bytes) -> None:
    """Point every cross-reference entry at its object's header, in one pass over the file.

    Damaged files often have offsets a few bytes off; pypdf then searches the whole file for that one object,
    each time — quadratic in a file built to be slow. Here the file is scanned once; an object whose header is
    nowhere is dropped from the table (a viewer cannot find it either).
    """
    located: dict[tuple[int, int], int] | None = None
    for generation, table in reader.xref.items():
        free = reader.xref_free_entry.get(generation, {})
        for idnum, offset in list(table.items()):
            if free.get(idnum):
                continue
            m = _HEADER_AT.match(data, offset) if isinstance(offset, int) and 0 <= offset < len(data) else None
            if m and (int(m[1]), int(m[2])) == (idnum, generation):
                continue
            if located is None:
                located = {}
                for h in _HEADER.finditer(data):
                    if h.start() == 0 or data[h.start() - 1] in b"\x00\t\n\x0c\r ":
                        located.setdefault((int(h[1]), int(h[2])), h.start())
            where = located.get((idnum, generation))
            if where is None:
                del table[idnum]
            else:
                table[idnum] = where


def _resolve(value: Any) -> Any:
    """An entry's value, following an indirect reference (undefined ones read as null)."""
    return value.get_object() if isinstance(value, IndirectObject) else value


def _name(value: Any) -> str | None:
    """The name a dictionary entry holds (resolving an indirect one), else None."""
    value = _resolve(value)
    return value if isinstance(value, str) and value.startswith("/") else None


def _active_in(obj: DictionaryObject) -> str | None:
    """What makes this one dictionary active content, or None (its children are looked at separately)."""
    for key in obj:
        if key in ACTIVE_KEYS:
            return key
    if (action := _name(obj.get("/S"))) in ACTIVE_ACTIONS:
        return f"/S {action}"
    if _name(obj.get("/Type")) == "/EmbeddedFile":
        return "/Type /EmbeddedFile"
    if (subtype := _name(obj.get("/Subtype"))) in ACTIVE_SUBTYPES:
        return f"/Subtype {subtype}"
    if "/OpenAction" in obj:
        action = _resolve(obj.get("/OpenAction"))
        # A destination (an array) only says where to open; an action dictionary does something.
        if isinstance(action, DictionaryObject) and _name(action.get("/S")) != "/GoTo":
            return f"/OpenAction {_name(action.get('/S')) or 'action'}"
    return None


def find_active_content(reader: PdfReader) -> str | None:
    """The first active content (see the module docstring) in the parsed file, or None when there is none."""
    stack: list[Any] = [reader.trailer]
    stack.extend(IndirectObject(idnum, generation, reader)
                 for generation, table in reader.xref.items() for idnum in table)
    stack.extend(IndirectObject(idnum, 0, reader) for idnum in reader.xref_objStm)
    seen: set[tuple[int, int]] = set()
    budget = MAX_OBJECTS
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen or not _defined(reader, obj):
                continue
            seen.add(key)
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):  # streams included: their dictionaries are what matters
            found = _active_in(obj)
            if found:
                return found
            children = obj.values()
        elif isinstance(obj, ArrayObject):
            children = obj
        else:
            continue
        budget -= 1
        if budget < 0:
            raise PdfRefused(UNREADABLE_TEXT, f"more than {MAX_OBJECTS} objects")
        # Plain values (numbers, strings, names) cannot hold anything further: only containers are queued.
        stack.extend(v for v in children if isinstance(v, (IndirectObject, DictionaryObject, ArrayObject)))
    return None


def check_pdf(path: str | os.PathLike) -> None:
    """Raise :class:`PdfRefused` when the PDF at ``path`` has active content, cannot be parsed or is encrypted."""
    data = Path(path).read_bytes()  # at most the upload limit; parsing from memory avoids a seek per token
    try:
        reader = _Reader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise PdfRefused(ENCRYPTED_TEXT, "encrypted")
        _relocate(reader, data)
        reader.defined_only = True
        found = find_active_content(reader)
    except PdfRefused:
        raise
    except (DependencyError, FileNotDecryptedError) as err:
        # A file that needs a password to open (or a cipher the installed libraries lack) cannot be read, so its
        # content cannot be checked. AES files that open without a password are read (``cryptography`` is
        # installed for the audit checkpoints) and checked like any other.
        raise PdfRefused(ENCRYPTED_TEXT, f"encrypted: {err}") from None
    except RecursionError:
        raise PdfRefused(UNREADABLE_TEXT, "nested too deeply") from None
    except Exception as err:  # pypdf raises many kinds on malformed input; each means "could not be read"
        raise PdfRefused(UNREADABLE_TEXT, f"{type(err).__name__}: {err}") from None
    if found:
        raise PdfRefused(ACTIVE_TEXT, found)
