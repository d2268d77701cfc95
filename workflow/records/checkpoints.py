"""Signed audit checkpoints: an audit trail that someone who can write to the database cannot rewrite unseen.

The hash chain of :mod:`workflow.records.audit` finds an edited event only if the editor did not recompute the hashes
after it; anyone with write access can. So, from time to time (``titlereview audit checkpoint``, run by a
timer), a checkpoint is signed with an Ed25519 key that lives in a file outside the database. It states:

* every case's chain head — (case id, last event hash, event count) — as a SHA-256 digest over the sorted
  list, and how many cases there are;
* every closed ballot box's tally — (box id, case id, round, yes, no, abstain, passed) — the same way;
* its own sequence number and the digest of the previous checkpoint, so the checkpoints form a chain too.

The lists are stored beside the signed statement; the digests in the statement bind them to the signature.
:func:`verify` then checks the database against the newest valid checkpoint: every signed head must still be
the event at that position of its case's chain (a re-chained edit changes it), every signed case must still
exist, every signed tally must be unchanged, and the checkpoints themselves must run without gaps, link to
each other and carry good signatures. Events and cases added after the checkpoint are expected.

The statements (digests only: no case content, no tallies) are published on a public page and as a file
outsiders can keep (:func:`export_checkpoints`). A checkpoint deleted from the end of the table leaves no gap
in the database, so only such a kept copy (``audit verify --against FILE``) shows it.

Keys: the private key is a PEM (PKCS#8) or raw 32-byte file, mode 0600, named by ``TITLEREVIEW_CHECKPOINT_KEY``.
Verification uses the public keys in ``TITLEREVIEW_CHECKPOINT_PUBLIC_KEYS`` plus the public half of the
configured private key. To rotate, a new key signs new checkpoints and the old public key stays in the verify
set, so old checkpoints still verify (docs/deployment.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, func, select, text, tuple_

from workflow.db import Database
from workflow.models import AuditCheckpoint, BallotBox, Case, CaseEvent, Sitting, as_utc, utcnow
from workflow.records.audit import iter_breaks

FORMAT = "titlereview-audit-checkpoint/1"
"""The ``format`` of every signed statement; a verifier refuses statements of another format."""

KEY_ENV = "TITLEREVIEW_CHECKPOINT_KEY"
PUBLIC_KEYS_ENV = "TITLEREVIEW_CHECKPOINT_PUBLIC_KEYS"

_cp = AuditCheckpoint.__table__
_case = Case.__table__
_event = CaseEvent.__table__
_box = BallotBox.__table__
_sitting = Sitting.__table__

_CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits


class CheckpointError(Exception):
    """A key that cannot be used, a checkpoint file that cannot be read, or a refused signing."""


# --- canonical form and digests ------------------------------------------------------------------------------

def canonical(value: Any) -> bytes:
    """The bytes that are signed and hashed: sorted keys, no spaces, UTF-8 (the same on every machine)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def digest(value: Any) -> str:
    """SHA-256 (hex) of :func:`canonical` ``value``; a checkpoint's digest is that of its statement."""
    return hashlib.sha256(canonical(value)).hexdigest()


# --- keys ----------------------------------------------------------------------------------------------------

def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key in base64 (what ``TITLEREVIEW_CHECKPOINT_PUBLIC_KEYS`` takes)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw public key: what people compare when they check a published key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the fingerprint: names the key in every checkpoint it signs."""
    return fingerprint(key)[:16]


def generate_key(path: Path) -> Ed25519PrivateKey:
    """Write a new private key to ``path`` (PEM, PKCS#8, mode 0600; refuses an existing file) and return it."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        # O_EXCL: never overwrite a key that may still be signing; 0600 from the start, no window for others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CheckpointError(f"{path} already exists; choose another path (never overwrite a key)") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The private key in ``path`` (PEM/PKCS#8 or the raw 32 bytes); refuses a file others may read."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read the checkpoint key {path}: {err.strerror}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Like ssh: a key that others can read may already have been copied, and its signatures prove nothing.
        raise CheckpointError(f"the checkpoint key {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
                              f"run: chmod 600 {path}")
    if len(data) == 32:
        return Ed25519PrivateKey.from_private_bytes(data)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"{path} is not an unencrypted Ed25519 private key: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def parse_public_key(entry: str) -> Ed25519PublicKey:
    """One public key: base64 of the raw 32 bytes, or the path of a PEM public key (or raw 32-byte) file."""
    entry = entry.strip()
    try:
        raw = base64.b64decode(entry, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32:  # base64 may contain "/", so it is tried before the entry is taken as a path
        return Ed25519PublicKey.from_public_bytes(raw)
    path = Path(entry)
    if not path.is_file():
        raise CheckpointError(f"not an Ed25519 public key (base64 of 32 bytes, or a PEM file): {entry!r}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"cannot read the public key {entry}: {err.strerror}") from None
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as err:
        raise CheckpointError(f"{entry} is not a PEM public key: {err}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{entry} holds a {type(key).__name__}, not an Ed25519 public key")
    return key


def parse_public_keys(entries: Iterable[str]) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id, from entries that may each hold several keys separated by commas or spaces."""
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in entries:
        for part in re.split(r"[\s,]+", entry or ""):
            if part:
                key = parse_public_key(part)
                keys[key_id(key)] = key
    return keys


def configured_public_keys(env: Mapping[str, str] | None = None,
                           extra: Iterable[str] = ()) -> dict[str, Ed25519PublicKey]:
    """The verify set: ``TITLEREVIEW_CHECKPOINT_PUBLIC_KEYS``, ``extra`` and the configured private key's half.

    Old keys stay verifiable for as long as their public key is listed, which is what key rotation relies on.
    Keys are never taken from the database or from a checkpoint file: whoever can write those could add their
    own key to the set.
    """
    env = os.environ if env is None else env
    keys = parse_public_keys([env.get(PUBLIC_KEYS_ENV, ""), *extra])
    private = env.get(KEY_ENV)
    if private:
        public = load_private_key(private).public_key()
        keys[key_id(public)] = public
    return keys


# --- snapshot and signing ------------------------------------------------------------------------------------

def _case_heads(conn: Connection) -> list[list]:
    rows = conn.execute(select(_case.c.id, _case.c.last_event_hash, _case.c.version).order_by(_case.c.id))
    return [[r.id, r.last_event_hash, r.version] for r in rows]


def _tally_row(r) -> list:
    return [r.id, r.case_id, r.round, r.yes, r.no, r.abstain, None if r.passed is None else bool(r.passed)]


_TALLY_COLUMNS = (_box.c.id, _box.c.case_id, _box.c.round, _box.c.yes, _box.c.no, _box.c.abstain, _box.c.passed)


def _closed_tallies(conn: Connection) -> list[list]:
    rows = conn.execute(select(*_TALLY_COLUMNS).where(_box.c.closed_at.is_not(None)).order_by(_box.c.id))
    return [_tally_row(r) for r in rows]


def _iso(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint as stored: the signed statement, its signature and (when loaded) the two lists."""

    seq: int
    body: dict[str, Any]
    signature: str
    key_id: str
    case_heads: list[list] | None = None
    closed_tallies: list[list] | None = None

    @property
    def digest(self) -> str:
        """The checkpoint's digest (the next checkpoint signs it as ``previous``)."""
        return digest(self.body)

    def statement(self, public_keys: Mapping[str, Ed25519PublicKey] | None = None, *,
                  with_lists: bool = False) -> dict[str, Any]:
        """The published form: statement, digest, signature, key id (and the public key when known)."""
        out: dict[str, Any] = {"seq": self.seq, "digest": self.digest, "statement": self.body,
                               "signature": self.signature, "key_id": self.key_id}
        key = (public_keys or {}).get(self.key_id)
        if key is not None:
            out["public_key"] = public_key_text(key)
            out["fingerprint"] = fingerprint(key)
        if with_lists:
            out["case_heads"] = self.case_heads
            out["closed_tallies"] = self.closed_tallies
        return out


def _row_checkpoint(row, *, lists: bool) -> Checkpoint:
    return Checkpoint(seq=row.seq, body=dict(row.body), signature=row.signature, key_id=row.key_id,
                      case_heads=list(row.case_heads) if lists else None,
                      closed_tallies=list(row.closed_tallies) if lists else None)


def load_checkpoints(db: Database, *, lists: bool = False, newest_first: bool = False,
                     limit: int | None = None) -> list[Checkpoint]:
    """The stored checkpoints in sequence order (the lists only when asked: they hold every case)."""
    cols = [_cp.c.seq, _cp.c.body, _cp.c.signature, _cp.c.key_id]
    if lists:
        cols += [_cp.c.case_heads, _cp.c.closed_tallies]
    stmt = select(*cols).order_by(_cp.c.seq.desc() if newest_first else _cp.c.seq)
    if limit is not None:
        stmt = stmt.limit(limit)
    with db.read() as conn:
        return [_row_checkpoint(r, lists=lists) for r in conn.execute(stmt)]


def checkpoint_count(db: Database) -> int:
    """How many checkpoints are stored."""
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(_cp)).scalar_one()


def _load_one(conn: Connection, seq: int) -> Checkpoint | None:
    row = conn.execute(select(_cp).where(_cp.c.seq == seq)).first()
    return _row_checkpoint(row, lists=True) if row is not None else None


def checkpoint_due(db: Database) -> bool:
    """True when a committee sitting was signed off after the newest checkpoint (or none was signed yet).

    ``titlereview tick`` asks this to sign a checkpoint soon after a sign-off, when the key is configured on
    its host, without the sitting code knowing about checkpoints.
    """
    with db.read() as conn:
        closed = conn.execute(select(func.max(_sitting.c.closed_at))).scalar_one()
        if closed is None:
            return False
        last = conn.execute(select(func.max(_cp.c.created_at))).scalar_one()
    return last is None or as_utc(closed) > as_utc(last)


def sign_checkpoint(db: Database, key: Ed25519PrivateKey, *, now: datetime | None = None,
                    public_keys: Mapping[str, Ed25519PublicKey] | None = None, force: bool = False) -> Checkpoint:
    """Verify the database against the newest checkpoint, then sign and store the next one.

    Signing a tampered state would launder the tampering into the next checkpoint, so the state is verified
    first (with ``public_keys`` plus ``key``'s own half) and signing is refused with :class:`CheckpointRefused`
    when anything is reported — unless ``force`` (after the findings were investigated; the earlier checkpoints
    keep recording the state before them). Checkpoints are numbered under a lock, so two signers (two hosts'
    timers) never take the same number or skip one.
    """
    keys = dict(public_keys or {})
    public = key.public_key()
    keys[key_id(public)] = public
    if not force:
        report = verify(db, keys)
        if not report.ok:
            raise CheckpointRefused(report)
    now = now or utcnow()
    with db.write() as conn:
        if conn.dialect.name == "postgresql":
            # SQLite's write transaction already holds the database lock (BEGIN IMMEDIATE).
            conn.execute(text("LOCK TABLE audit_checkpoint IN SHARE ROW EXCLUSIVE MODE"))
        last_seq = conn.execute(select(func.max(_cp.c.seq))).scalar_one()
        previous = _load_one(conn, last_seq) if last_seq is not None else None
        heads = _case_heads(conn)
        tallies = _closed_tallies(conn)
        body: dict[str, Any] = {
            "format": FORMAT,
            "seq": (last_seq or 0) + 1,
            "previous": previous.digest if previous is not None else None,
            "created_at": _iso(now),
            "key_id": key_id(public),
            "cases": {"count": len(heads), "digest": digest(heads)},
            "closed_tallies": {"count": len(tallies), "digest": digest(tallies)},
        }
        signature = base64.b64encode(key.sign(canonical(body))).decode("ascii")
        conn.execute(_cp.insert().values(seq=body["seq"], created_at=now, body=body, signature=signature,
                                         key_id=body["key_id"], case_heads=heads, closed_tallies=tallies))
    return Checkpoint(body["seq"], body, signature, body["key_id"], heads, tallies)


# --- verification --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One thing that changed or is missing, naming the case and the row where that is known."""

    kind: str
    message: str
    case_id: int | None = None
    row: str | None = None

    def __str__(self) -> str:
        where = " ".join(p for p in (f"case {self.case_id}:" if self.case_id is not None else "",
                                     f"{self.row}:" if self.row else "") if p)
        return f"[{self.kind}] {where + ' ' if where else ''}{self.message}"


@dataclass
class VerifyReport:
    """What :func:`verify` found: the counts checked and every finding (chain breaks included)."""

    cases: int = 0
    checkpoints: int = 0
    reference: int | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings


class CheckpointRefused(CheckpointError):
    """Signing was refused because the database does not verify against the newest checkpoint."""

    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        super().__init__(f"the database does not verify ({len(report.findings)} findings); not signed")


def _verify_signature(cp: Checkpoint, keys: Mapping[str, Ed25519PublicKey], where: str) -> Finding | None:
    row = f"{where} {cp.seq}"
    if cp.body.get("format") != FORMAT:
        return Finding("checkpoint-forged", f"statement has format {cp.body.get('format')!r}, not {FORMAT}",
                       row=row)
    key = keys.get(cp.key_id)
    if key is None:
        return Finding("checkpoint-unknown-key", f"signed by key {cp.key_id}, which is not among the configured "
                       f"public keys ({PUBLIC_KEYS_ENV}); forged, or an old key left out of the verify set",
                       row=row)
    try:
        key.verify(base64.b64decode(cp.signature, validate=True), canonical(cp.body))
    except (InvalidSignature, binascii.Error, ValueError):
        return Finding("checkpoint-forged", f"signature does not verify under key {cp.key_id} "
                       "(statement edited or signed with another key)", row=row)
    if cp.body.get("seq") != cp.seq or cp.body.get("key_id") != cp.key_id:
        return Finding("checkpoint-forged", f"the signed statement says seq {cp.body.get('seq')} / key "
                       f"{cp.body.get('key_id')}, the row says seq {cp.seq} / key {cp.key_id}", row=row)
    return None


def _check_sequence(cps: list[Checkpoint], keys: Mapping[str, Ed25519PublicKey], where: str,
                    findings: list[Finding]) -> list[Checkpoint]:
    """Signatures, gaps and links of a run of checkpoints; returns those whose signature verifies."""
    valid: list[Checkpoint] = []
    prev: Checkpoint | None = None
    for cp in cps:
        problem = _verify_signature(cp, keys, where)
        if problem is not None:
            findings.append(problem)
        else:
            valid.append(cp)
        expected = 1 if prev is None else prev.seq + 1
        if cp.seq != expected:
            missing = f"{expected}" if cp.seq == expected + 1 else f"{expected}–{cp.seq - 1}"
            findings.append(Finding("checkpoint-missing", f"checkpoint(s) {missing} missing before checkpoint "
                                    f"{cp.seq} (deleted)", row=f"{where} {missing}"))
        elif prev is None and cp.body.get("previous") is not None:
            findings.append(Finding("checkpoint-missing", "the first checkpoint links to a previous one, which is "
                                    "gone", row=f"{where} {cp.seq}"))
        elif prev is not None and cp.body.get("previous") != prev.digest:
            findings.append(Finding("checkpoint-replaced", f"checkpoint {cp.seq} signs a different digest for "
                                    f"checkpoint {prev.seq} than the one stored (replaced or edited)",
                                    row=f"{where} {prev.seq}"))
        prev = cp
    return valid


def _lists_match(cp: Checkpoint) -> tuple[bool, bool]:
    """Whether the stored case list and tally list match the digests the statement signs."""
    cases = cp.body.get("cases", {})
    tallies = cp.body.get("closed_tallies", {})
    heads_ok = cp.case_heads is not None and digest(cp.case_heads) == cases.get("digest") \
        and len(cp.case_heads) == cases.get("count")
    tallies_ok = cp.closed_tallies is not None and digest(cp.closed_tallies) == tallies.get("digest") \
        and len(cp.closed_tallies) == tallies.get("count")
    return heads_ok, tallies_ok


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _events_at(conn: Connection, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, str]]:
    """(case id, seq) -> (event id, hash) for the events at those positions."""
    found: dict[tuple[int, int], tuple[int, str]] = {}
    for chunk in _chunks(pairs):
        rows = conn.execute(select(_event.c.case_id, _event.c.seq, _event.c.id, _event.c.hash)
                            .where(tuple_(_event.c.case_id, _event.c.seq).in_(chunk)))
        for r in rows:
            found[(r.case_id, r.seq)] = (r.id, r.hash)
    return found


def _check_heads(db: Database, cp: Checkpoint, findings: list[Finding]) -> dict[int, int]:
    """Every case the checkpoint signed still exists and its chain still passes the signed head.

    Returns the cases whose head changed (an event at or before it was edited and the chain rebuilt), each
    with the event count signed.
    """
    heads = {int(h[0]): (str(h[1]), int(h[2])) for h in cp.case_heads or []}
    changed: dict[int, int] = {}
    with db.read() as conn:
        existing: set[int] = set()
        for chunk in _chunks(sorted(heads)):
            existing.update(conn.execute(select(_case.c.id).where(_case.c.id.in_(chunk))).scalars())
        positions = [(cid, count) for cid, (_, count) in sorted(heads.items()) if cid in existing and count > 0]
        events = _events_at(conn, positions)
    for cid, (head, count) in sorted(heads.items()):
        if cid not in existing:
            findings.append(Finding("case-deleted", f"deleted: checkpoint {cp.seq} signed this case with {count} "
                                    f"events, head {head[:12]}…", case_id=cid, row=f"case_file {cid}"))
            continue
        if count == 0:
            continue
        now = events.get((cid, count))
        if now is None:
            findings.append(Finding("case-truncated", f"the event at seq {count}, head of the chain in checkpoint "
                                    f"{cp.seq}, is gone (events deleted)", case_id=cid,
                                    row=f"event seq {count}"))
        elif now[1] != head:
            changed[cid] = count
            findings.append(Finding("case-rechained", f"hash {now[1][:12]}… differs from the head {head[:12]}… "
                                    f"signed in checkpoint {cp.seq}: an event at or before seq {count} was "
                                    "changed and the chain recomputed", case_id=cid,
                                    row=f"event {now[0]} (seq {count})"))
    return changed


def _narrow_rechained(db: Database, cps: list[Checkpoint], changed: dict[int, int],
                      findings: list[Finding]) -> None:
    """Name the first event that differs, as far as older checkpoints' heads allow.

    ``changed`` maps each re-chained case to the event count its reference head was signed at. Each older
    checkpoint signed an earlier head of the same case; the edit lies after the newest head that still matches
    and at or before the oldest that does not. Only run when a re-chained case was found.
    """
    if not changed:
        return
    # case -> (last seq whose signed head still matches, first seq whose signed head differs)
    bounds: dict[int, tuple[int, int]] = {cid: (0, count) for cid, count in changed.items()}
    wanted = set(changed)
    with db.read() as conn:
        for cp in cps:  # oldest first; valid signatures only
            full = _load_one(conn, cp.seq)
            if full is None or not _lists_match(full)[0]:
                continue
            heads = {int(h[0]): (str(h[1]), int(h[2])) for h in full.case_heads or [] if int(h[0]) in wanted}
            events = _events_at(conn, [(cid, count) for cid, (_, count) in heads.items() if count > 0])
            for cid, (head, count) in heads.items():
                low, high = bounds[cid]
                ev = events.get((cid, count))
                if ev is not None and ev[1] == head:
                    low = max(low, count)
                else:
                    high = min(high, count)
                bounds[cid] = (low, high)
        for cid, (low, high) in bounds.items():
            if (low, high) == (0, changed[cid]):
                continue  # no older head narrows it: the finding on the reference head already says "at or before"
            rows = conn.execute(select(_event.c.id, _event.c.seq).where(
                _event.c.case_id == cid, _event.c.seq > low, _event.c.seq <= high).order_by(_event.c.seq)).all()
            if not rows:
                continue
            first = rows[0]
            ids = ", ".join(str(r.id) for r in rows[:10]) + (", …" if len(rows) > 10 else "")
            what = (f"event {first.id} (seq {first.seq})" if len(rows) == 1 else
                    f"events {ids} (seq {first.seq}–{rows[-1].seq})")
            findings.append(Finding("case-rechained", f"the changed event is among {what} (the heads signed by "
                                    "older checkpoints bound it)", case_id=cid, row=what))


def _check_tallies(db: Database, cp: Checkpoint, findings: list[Finding]) -> None:
    """Every box the checkpoint signed as closed still exists, still closed, with the same tally."""
    signed = {int(t[0]): t for t in cp.closed_tallies or []}
    now: dict[int, tuple[list, Any]] = {}
    with db.read() as conn:
        for chunk in _chunks(sorted(signed)):
            for r in conn.execute(select(*_TALLY_COLUMNS, _box.c.closed_at).where(_box.c.id.in_(chunk))):
                now[r.id] = (_tally_row(r), r.closed_at)
    names = ("box", "case", "round", "yes", "no", "abstain", "passed")
    for box_id, tally in sorted(signed.items()):
        case_id, round_ = tally[1], tally[2]
        label = f"ballot_box {box_id} (round {round_})"
        if box_id not in now:
            findings.append(Finding("tally-deleted", f"deleted: checkpoint {cp.seq} signed this closed box",
                                    case_id=case_id, row=label))
            continue
        current, closed_at = now[box_id]
        diffs = [f"{n} {a!r} → {b!r}" for n, a, b in zip(names, tally, current, strict=True) if a != b]
        if closed_at is None:
            diffs.append("closed → open")
        if diffs:
            findings.append(Finding("tally-changed", f"changed since checkpoint {cp.seq}: {', '.join(diffs)}",
                                    case_id=case_id, row=label))


def load_checkpoint_file(path: str | Path) -> list[Checkpoint]:
    """Checkpoints from a kept file: JSON lines (what :func:`export_checkpoints` writes) or one JSON array."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f"cannot read {path}: {err}") from None
    try:
        stripped = content.lstrip()
        items = json.loads(stripped) if stripped.startswith("[") else \
            [json.loads(line) for line in content.splitlines() if line.strip()]
        return [Checkpoint(seq=int(i["seq"]), body=dict(i["statement"]), signature=str(i["signature"]),
                           key_id=str(i["key_id"]), case_heads=i.get("case_heads"),
                           closed_tallies=i.get("closed_tallies")) for i in items]
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{path} is not a checkpoint file: {err}") from None


def _compare_with_file(db_cps: list[Checkpoint], kept: list[Checkpoint], findings: list[Finding]) -> None:
    by_seq = {cp.seq: cp for cp in db_cps}
    for cp in kept:
        stored = by_seq.get(cp.seq)
        if stored is None:
            findings.append(Finding("checkpoint-missing", f"checkpoint {cp.seq} (signed "
                                    f"{cp.body.get('created_at')}, kept in the file) is missing from the database",
                                    row=f"audit_checkpoint {cp.seq}"))
        elif stored.digest != cp.digest or stored.signature != cp.signature:
            findings.append(Finding("checkpoint-replaced", f"checkpoint {cp.seq} in the database differs from "
                                    "the copy kept in the file", row=f"audit_checkpoint {cp.seq}"))


def verify(db: Database, public_keys: Mapping[str, Ed25519PublicKey], *, kept: list[Checkpoint] | None = None,
           require_checkpoint: bool = False) -> VerifyReport:
    """Check the hash chains, the checkpoints, and the database against the newest valid checkpoint.

    ``kept`` is a checkpoint file an outsider kept (:func:`load_checkpoint_file`): its checkpoints must be in
    the database unchanged, and its newest one is used if the database's newest is older.
    ``require_checkpoint``: report a database without any checkpoint (set once checkpoints are in use, so
    deleting all of them is not a way out).
    """
    report = VerifyReport()
    findings = report.findings
    db_cps = load_checkpoints(db)
    report.checkpoints = len(db_cps)
    valid = _check_sequence(db_cps, public_keys, "audit_checkpoint", findings)
    candidates: list[tuple[int, str, Checkpoint]] = [(cp.seq, "db", cp) for cp in valid]
    if kept is not None:
        kept_findings: list[Finding] = []
        kept_valid = _check_sequence(sorted(kept, key=lambda c: c.seq), public_keys, "kept checkpoint",
                                     kept_findings)
        # A keeper may have started late or skipped a download (gaps are theirs); a bad signature is not.
        findings += [f for f in kept_findings if f.kind in ("checkpoint-forged", "checkpoint-unknown-key")]
        _compare_with_file(db_cps, kept_valid, findings)
        candidates += [(cp.seq, "file", cp) for cp in kept_valid]
    if not db_cps and not kept and require_checkpoint:
        findings.append(Finding("checkpoint-missing", "no checkpoint at all, although checkpoint keys are "
                                "configured (all deleted, or none signed yet)", row="audit_checkpoint"))
    if candidates:
        seq, source, ref = max(candidates, key=lambda c: (c[0], c[1] == "db"))
        report.reference = seq
        if source == "db":
            with db.read() as conn:
                ref = _load_one(conn, seq) or ref
        heads_ok, tallies_ok = _lists_match(ref)
        if not (heads_ok and tallies_ok):
            # The database's lists were edited; a kept copy with lists (export --with-lists) still names cases.
            alt = next((cp for s, src, cp in candidates if s == seq and src == "file" and cp.case_heads), None)
            if source == "db":
                which = " and ".join(n for n, ok in (("case list", heads_ok), ("tally list", tallies_ok)) if not ok)
                findings.append(Finding("checkpoint-lists-edited", f"the stored {which} of checkpoint {seq} "
                                        "does not match the signed digest", row=f"audit_checkpoint {seq}"))
            if alt is not None:
                alt_heads, alt_tallies = _lists_match(alt)
                ref = Checkpoint(ref.seq, ref.body, ref.signature, ref.key_id,
                                 ref.case_heads if heads_ok else (alt.case_heads if alt_heads else None),
                                 ref.closed_tallies if tallies_ok else (alt.closed_tallies if alt_tallies else None))
                heads_ok, tallies_ok = _lists_match(ref)
        heads_ref = ref if heads_ok else None
        tallies_ref = ref if tallies_ok else None
        if heads_ref is None or tallies_ref is None:
            # Lists the reference cannot vouch for (edited, or a kept file without lists): the newest older
            # checkpoint whose lists still match its signature can still name what changed since then.
            with db.read() as conn:
                for cp in sorted((c for c in valid if c.seq < seq), key=lambda c: -c.seq):
                    older = _load_one(conn, cp.seq)
                    if older is None:
                        continue
                    older_heads, older_tallies = _lists_match(older)
                    heads_ref = heads_ref or (older if older_heads else None)
                    tallies_ref = tallies_ref or (older if older_tallies else None)
                    if heads_ref is not None and tallies_ref is not None:
                        break
        if heads_ref is not None:
            changed = _check_heads(db, heads_ref, findings)
            _narrow_rechained(db, [cp for cp in valid if cp.seq < heads_ref.seq], changed, findings)
        if not heads_ok:
            signed = int(ref.body.get("cases", {}).get("count", 0))
            with db.read() as conn:
                current = conn.execute(select(func.count()).select_from(_case)).scalar_one()
            if current < signed:
                findings.append(Finding("case-deleted", f"checkpoint {seq} signed {signed} cases, {current} remain",
                                        row="case_file"))
        if tallies_ref is not None:
            _check_tallies(db, tallies_ref, findings)
    with db.read() as conn:
        report.cases = conn.execute(select(func.count()).select_from(_case)).scalar_one()
    for b in iter_breaks(db):
        row = f"event {b.event_id} (seq {b.seq})" if b.event_id is not None else None
        findings.append(Finding("chain", b.problem, case_id=b.case_id, row=row))
    return report


def export_checkpoints(db: Database, public_keys: Mapping[str, Ed25519PublicKey] | None = None, *,
                       with_lists: bool = False) -> Iterator[str]:
    """The checkpoints as JSON lines, oldest first: the statements outsiders keep (lists only on request).

    Without the lists a line reveals digests and counts only. With them (for a private archive), a later
    ``audit verify --against`` can still name the changed case when the database's own lists were edited.
    """
    for cp in load_checkpoints(db, lists=with_lists):
        yield json.dumps(cp.statement(public_keys, with_lists=with_lists), ensure_ascii=False,
                         sort_keys=True) + "\n"
