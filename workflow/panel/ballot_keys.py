"""The committee's ballot key: Paillier encryption of each ballot, a private key split between two people.

Each session's committee gets one Paillier keypair (``phe``) when its sitting is set up
(:func:`create_committee_key`). Only the public key (``n``) and its fingerprint are stored
(``committee_key``). The private key is serialised (its primes ``p`` and ``q``, fixed width) and split
2-of-2: share A (the chair's) is random bytes, share B (the session's officer's) is the serialised key XOR
share A. Either share alone is uniformly random and says nothing about the key; both are handed out once
(:class:`KeyShares`) and never stored. To tally a box, both are entered again; :func:`rebuild_key` XORs them
back, checks the primes against the stored ``n`` and returns the private key, which the caller uses for that
one request and drops.

A ballot is three ciphertexts, one per choice counter (Enc(1) for the choice taken, Enc(0) for the other
two), so the homomorphic sum of a box's ballots encrypts the three counts (:func:`sum_box`); only such sums
are ever decrypted (:func:`decrypt_counts`), never a single ballot. No cryptography is written here: the
keypair, encryption (with ``phe``'s obfuscation by a fresh random ``r``), addition and decryption are
``phe``'s; this module only serialises, splits and checks.

Shares and keys never go into a database row, an audit payload, a log line or an exception message.
:class:`KeyShares` and :class:`BallotShares` hide their values from ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from phe import paillier
from sqlalchemy import Connection, insert, select

from workflow.errors import InvalidAction
from workflow.models.panels import CommitteeKey

KEY_BITS = int(os.environ.get("TITLEREVIEW_BALLOT_KEY_BITS", "2048"))
"""Size of the Paillier modulus ``n`` for new committee keys. The environment variable exists for the test
suite only (it lowers the size so thousands of test ballots encrypt quickly); production leaves it unset."""

COUNTERS = ("yes", "no", "abstain")
"""The choice counters a ballot carries one ciphertext each for, in column order (c_yes, c_no, c_abstain)."""

SHARE_PREFIX = "TRBK1"
"""Version tag at the start of every share text (and share file)."""

ROLES = {"A": "chair", "B": "officer"}
"""Which share each holder keeps: A the chair, B the session's officer."""

_key = CommitteeKey.__table__

__all__ = ["COUNTERS", "KEY_BITS", "BallotShares", "KeyShares", "committee_key_fingerprint", "committee_public_key",
           "create_committee_key", "decrypt_counts", "encrypt_choice", "fingerprint", "has_committee_key",
           "key_from_shares", "new_keypair", "rebuild_key", "sum_box"]


def fingerprint(n: int) -> str:
    """A short, stable name for a public key (the first 16 hex digits of SHA-256 of ``n`` in decimal)."""
    return hashlib.sha256(str(n).encode("ascii")).hexdigest()[:16]


@dataclass(frozen=True)
class KeyShares:
    """The two shares of a new committee key, handed out once when the key is made (never stored)."""

    session_id: int
    fingerprint: str
    chair: str = field(repr=False)
    officer: str = field(repr=False)


@dataclass(frozen=True)
class BallotShares:
    """Both shares as entered to close a box or recount (passed beside the engine payload, never in it)."""

    chair: str = field(repr=False)
    officer: str = field(repr=False)


def _width(n: int) -> int:
    """Bytes per prime in the serialised key (one spare byte: phe's primes may be a bit longer than n/2)."""
    return (n.bit_length() // 2 + 7) // 8 + 1


def _check(label: str, session_id: int, fp: str, body: str) -> str:
    return hashlib.sha256(f"{label}|{session_id}|{fp}|{body}".encode("ascii")).hexdigest()[:8]


def _share_text(label: str, session_id: int, fp: str, raw: bytes) -> str:
    # Base32: letters and digits only, case-insensitive — safe to read aloud, print and type back.
    body = base64.b32encode(raw).decode("ascii").rstrip("=")
    return f"{SHARE_PREFIX}-{label}-{session_id}-{fp}-{body}-{_check(label, session_id, fp, body)}"


def _split(private_key: paillier.PaillierPrivateKey, session_id: int, fp: str) -> tuple[str, str]:
    n = private_key.public_key.n
    width = _width(n)
    serialised = private_key.p.to_bytes(width, "big") + private_key.q.to_bytes(width, "big")
    share_a = secrets.token_bytes(len(serialised))
    share_b = bytes(x ^ y for x, y in zip(serialised, share_a, strict=True))
    return _share_text("A", session_id, fp, share_a), _share_text("B", session_id, fp, share_b)


def has_committee_key(conn: Connection, session_id: int) -> bool:
    """True when the session's committee key has been made."""
    return conn.execute(select(_key.c.id).where(_key.c.session_id == session_id)).first() is not None


def committee_key_fingerprint(conn: Connection, session_id: int) -> str | None:
    """The fingerprint of the session's committee key, or None before the key is made."""
    return conn.execute(select(_key.c.fingerprint).where(_key.c.session_id == session_id)).scalar()


def new_keypair() -> tuple[paillier.PaillierPublicKey, paillier.PaillierPrivateKey]:
    """A fresh Paillier keypair of :data:`KEY_BITS` (slow: make it before taking database locks)."""
    return paillier.generate_paillier_keypair(n_length=KEY_BITS)


def create_committee_key(conn: Connection, session_id: int, actor_id: int | None, now: datetime,
                         keypair: tuple[paillier.PaillierPublicKey, paillier.PaillierPrivateKey] | None = None
                         ) -> KeyShares:
    """Store the session's public key (``keypair``, else a new one) in the caller's transaction and return the
    two shares of its private key. The caller hands them to their holders once and keeps nothing.
    """
    public_key, private_key = keypair or new_keypair()
    del keypair
    fp = fingerprint(public_key.n)
    conn.execute(insert(_key).values(session_id=session_id, n=format(public_key.n, "x"), fingerprint=fp,
                                     created_at=now, created_by=actor_id))
    chair, officer = _split(private_key, session_id, fp)
    del private_key
    return KeyShares(session_id=session_id, fingerprint=fp, chair=chair, officer=officer)


def committee_public_key(conn: Connection, session_id: int | None) -> paillier.PaillierPublicKey | None:
    """The session's public key, or None when none has been made."""
    if session_id is None:
        return None
    row = conn.execute(select(_key.c.n).where(_key.c.session_id == session_id)).first()
    return paillier.PaillierPublicKey(int(row[0], 16)) if row else None


def encrypt_choice(public_key: paillier.PaillierPublicKey, choice: str) -> tuple[str, str, str]:
    """The ballot for ``choice``: Enc(1) in its counter, Enc(0) in the others, as hex (obfuscated by phe)."""
    if choice not in COUNTERS:
        raise InvalidAction("无效的表决选项", "Invalid choice")
    out = []
    for counter in COUNTERS:
        encrypted = public_key.encrypt(1 if counter == choice else 0)
        out.append(format(encrypted.ciphertext(be_secure=True), "x"))
    return out[0], out[1], out[2]


def sum_box(public_key: paillier.PaillierPublicKey, rows: list[tuple[str, str, str]]
            ) -> list[paillier.EncryptedNumber]:
    """The homomorphic sums of a box's ballots, one EncryptedNumber per counter (Enc(0) for an empty box)."""
    # The sums start from Enc(0) with r = 1: never stored, so it needs no obfuscation (which would cost a
    # modular exponentiation per counter on every close).
    sums = [public_key.encrypt(0, r_value=1) for _ in COUNTERS]
    for row in rows:
        for i, text in enumerate(row):
            sums[i] = sums[i] + paillier.EncryptedNumber(public_key, int(text, 16), 0)
    return sums


def decrypt_counts(private_key: paillier.PaillierPrivateKey, sums: list[paillier.EncryptedNumber]
                   ) -> tuple[int, int, int]:
    """The three counts from the sums of a box (a sum out of range means the box holds forged ciphertexts)."""
    counts = []
    for encrypted in sums:
        value = private_key.decrypt(encrypted)
        if not isinstance(value, int) or value < 0 or value > 10**6:
            raise InvalidAction("票箱中有无效选票，不能计票", "The box holds invalid ballots")
        counts.append(value)
    return counts[0], counts[1], counts[2]


_MISSING = ("请主任委员和经办人分别输入各自的计票密钥份额（或上传份额文件）",
            "Both the chair and the officer must enter their key share (or upload their share file)")


def _parse(text: str, label: str, session_id: int, fp: str) -> bytes:
    holder = "主任委员" if label == "A" else "经办人"
    # Printed shares may be wrapped or spaced: whitespace is not part of a share.
    parts = "".join((text or "").split()).upper().split("-")
    if len(parts) != 6 or parts[0] != SHARE_PREFIX or parts[1] not in ROLES:
        raise InvalidAction(f"{holder}的密钥份额格式不正确", f"The {ROLES[label]}'s key share is malformed")
    _, got_label, got_session, got_fp, body, check = parts
    if got_label != label:
        raise InvalidAction(f"{holder}的密钥份额应为{label}份额，输入的是{got_label}份额",
                            f"The {ROLES[label]}'s share must be share {label}")
    if got_session != str(session_id) or got_fp.lower() != fp:
        raise InvalidAction(f"{holder}的密钥份额不属于本评审会的计票密钥",
                            f"The {ROLES[label]}'s share belongs to another committee key")
    if not secrets.compare_digest(check.lower(), _check(label, session_id, fp, body)):
        raise InvalidAction(f"{holder}的密钥份额有误（校验码不符），请核对后重新输入",
                            f"The {ROLES[label]}'s share has a typo (checksum mismatch)")
    try:
        return base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError:
        raise InvalidAction(f"{holder}的密钥份额格式不正确", f"The {ROLES[label]}'s key share is malformed") from None


def rebuild_key(conn: Connection, session_id: int | None, shares: Any) -> paillier.PaillierPrivateKey:
    """The session's private key rebuilt in memory from both shares; InvalidAction (Chinese) when they are
    missing, malformed, of another key, or do not fit together. The caller must drop it after use."""
    if not isinstance(shares, BallotShares) or not shares.chair.strip() or not shares.officer.strip():
        raise InvalidAction(*_MISSING)  # before the query: missing shares need no key to be refused
    return key_from_shares(committee_public_key(conn, session_id), session_id, shares)


def key_from_shares(public_key: paillier.PaillierPublicKey | None, session_id: int | None, shares: Any
                    ) -> paillier.PaillierPrivateKey:
    """:func:`rebuild_key` for a caller that has already read the session's public key (None: it has none),
    e.g. in the statement that reads the box it counts; the same checks, the same refusals, no query."""
    if not isinstance(shares, BallotShares) or not shares.chair.strip() or not shares.officer.strip():
        raise InvalidAction(*_MISSING)
    if public_key is None or session_id is None:
        raise InvalidAction("本评审会尚未生成计票密钥，不能计票", "This committee has no ballot key")
    fp = fingerprint(public_key.n)
    share_a = _parse(shares.chair, "A", session_id, fp)
    share_b = _parse(shares.officer, "B", session_id, fp)
    width = _width(public_key.n)
    if len(share_a) != 2 * width or len(share_b) != 2 * width:
        raise InvalidAction("密钥份额长度不符", "A key share has the wrong length")
    joined = bytes(x ^ y for x, y in zip(share_a, share_b, strict=True))
    p, q = int.from_bytes(joined[:width], "big"), int.from_bytes(joined[width:], "big")
    del joined
    if p <= 1 or q <= 1 or p * q != public_key.n:
        raise InvalidAction("两份密钥份额不能还原本评审会的计票密钥，请核对后重新输入",
                            "The two shares do not rebuild this committee's key")
    return paillier.PaillierPrivateKey(public_key, p, q)
