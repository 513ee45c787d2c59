#!/usr/bin/env python3
"""Independent conformance check of docs/FORMAT.md against tests/vectors/golden-v1.json.

Written from docs/FORMAT.md alone, with the Python standard library only: the
schema below is a transcription of the FORMAT.md tables (sections 3-5; section
numbers are given throughout), interpreted by a generic strict decoder and encoder.

What it checks, for every entry of the golden file:
  * the version byte, the 65,535-byte limit, strict decoding (bool / Option
    tags, enum indexes, UTF-8, value constraints, trailing bytes) and the
    reference decoder's allocation accounting (FORMAT.md 3.5);
  * the decoded value, field by field, against the entry's "json";
  * that re-encoding the decoded value, and encoding the "json" form
    directly, both give exactly canonical_hex;
  * index sequence, node time never decreasing, the hash chain
    (prev = leaf hash of the previous entry, zero for entry 0);
  * leaf hashes SHA-256(0x00 || bytes);
  * signed_message_hex = "lvyue/submission/v1\\n" || origin || "\\n" ||
    canonical(payload), with canonical(payload) re-encoded here;
  * submission ids are distinct (no replays);
  * the admission rules that need no signature check (FORMAT.md 13):
    registered signer key, role, Genesis rules, USCC check characters;
and globally:
  * the key ids of the vkeys, SHA-256(name || 0x0A || 0x01 || pubkey)[:4] (8.2),
    and that each vkey's public key is the one registered in the log;
  * the RFC 6962 root for every checkpoint size, against "root" and against
    the root inside the checkpoint note body; the note's structure and the key
    id of its signature line;
  * the stored-hash layout, tiles, entry bundles, inclusion and consistency
    proofs (RFC 9162 verification algorithms) over the golden tree;
  * negative cases: corrupted canonical bytes must be refused.

NOT checked: Ed25519 signatures (entry signatures and checkpoint note
signatures) and public-key derivation from the seeds, because Ed25519 is not
in the Python standard library.

Usage: python3 tests/format_check.py [--golden PATH] [--dissect INDEX]
Exit status 0 when everything matches; 1 when anything does not (each
mismatch found is printed as a MISMATCH line).
"""

import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "vectors", "golden-v1.json")

FORMAT_VERSION = 0x01
MAX_RECORD_SIZE = 65535
DECODE_BUDGET = 16 * MAX_RECORD_SIZE  # FORMAT.md 3.5: never reached by inputs within MAX_RECORD_SIZE
SUBMISSION_LABEL = b"lvyue/submission/v1\n"
SUBMISSION_ID_LABEL = b"lvyue/submission-id/v1\n"


class FormatError(Exception):
    """A byte string or JSON value that FORMAT.md does not allow."""


# ---------------------------------------------------------------------------
# Value constraints (FORMAT.md 4)
# ---------------------------------------------------------------------------

# Unicode White_Space property (what Rust's char::is_whitespace tests).
WHITE_SPACE = set(
    [chr(c) for c in range(0x09, 0x0E)]
    + [" ", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)


def is_control(c):
    return unicodedata.category(c) == "Cc"


def check_contract_id(s):
    ok = 1 <= len(s.encode()) <= 64 and all(
        ("A" <= c <= "Z") or ("a" <= c <= "z") or ("0" <= c <= "9") or c in "._:/-" for c in s
    )
    if not ok:
        raise FormatError("ContractId %r: want 1..=64 of A-Z a-z 0-9 . _ : / -" % s)


def check_text(s):
    if len(s) > 2000:
        raise FormatError("Text of %d characters: at most 2000" % len(s))
    if any(is_control(c) and c != "\n" for c in s):
        raise FormatError("Text %r: control character" % s)


def check_name(s):
    if not 1 <= len(s) <= 200 or any(is_control(c) for c in s):
        raise FormatError("Name %r: want 1..=200 characters, no control character" % s)


def check_masked_name(s):
    if not (2 <= len(s) <= 4 and s.endswith("某") and "某" not in s[:-1]):
        raise FormatError("MaskedName %r: want a surname followed by 某" % s)


def check_signer_name(s):
    if not 1 <= len(s) <= 100 or any(c in WHITE_SPACE or is_control(c) or c == "+" for c in s):
        raise FormatError("SignerName %r: want 1..=100 characters, no space/control/'+'" % s)


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 3^(i-1) mod 31, i = 1..17


def uscc_expected_check(code):
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


MIN_DAY, MAX_DAY = -25567, 84005  # 1900-01-01, 2199-12-31
EPOCH = datetime.date(1970, 1, 1)


def days_to_date(days):
    return (EPOCH + datetime.timedelta(days=days)).isoformat()


def date_to_days(s):
    if not isinstance(s, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", s):
        raise FormatError("date %r: want YYYY-MM-DD" % (s,))
    try:
        d = datetime.date(int(s[0:4]), int(s[5:7]), int(s[8:10]))
    except ValueError as e:
        raise FormatError("date %r: %s" % (s, e))
    days = (d - EPOCH).days
    if not MIN_DAY <= days <= MAX_DAY:
        raise FormatError("date %r: outside 1900..=2199" % s)
    return days


# ---------------------------------------------------------------------------
# Schema types: a generic strict decoder / encoder (FORMAT.md 3)
# ---------------------------------------------------------------------------


class Reader:
    """Reads the body after the version byte, with the reference decoder's
    allocation counter (FORMAT.md 3.5) and an optional byte trace."""

    def __init__(self, data, base=1, trace=None):
        self.data, self.pos, self.base = data, 0, base
        self.claimed = 0
        self.trace = trace

    def claim(self, n):
        self.claimed += n
        if self.claimed > DECODE_BUDGET:
            raise FormatError("allocation budget exceeded (FORMAT.md 3.5)")

    def take(self, n, path, what, value=None):
        if self.pos + n > len(self.data):
            raise FormatError("%s: truncated (need %d bytes at offset %d)" % (path, n, self.base + self.pos))
        raw = self.data[self.pos : self.pos + n]
        if self.trace is not None:
            self.trace.append((self.base + self.pos, raw, path, what, value))
        self.pos += n
        return raw


class Int:
    def __init__(self, name, width, signed):
        self.name, self.width, self.signed = name, width, signed
        self.mem = width  # in-memory size charged per Vec element (FORMAT.md 3.5)
        bits = 8 * width
        self.lo = -(1 << (bits - 1)) if signed else 0
        self.hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1

    def read_int(self, r, path, what=None):
        r.claim(self.width)
        raw = r.take(self.width, path, what or self.name)
        v = int.from_bytes(raw, "big", signed=self.signed)
        if r.trace is not None:
            r.trace[-1] = r.trace[-1][:4] + (v,)
        return v

    def decode(self, r, path):
        return self.to_json(self.read_int(r, path), path)

    def to_json(self, v, path):
        return v

    def from_json(self, v, path):
        if isinstance(v, bool) or not isinstance(v, int) or not self.lo <= v <= self.hi:
            raise FormatError("%s: %r is not a %s" % (path, v, self.name))
        return v

    def encode(self, v, path):
        return self.from_json(v, path).to_bytes(self.width, "big", signed=self.signed)


U8 = Int("u8", 1, False)
U32 = Int("u32", 4, False)
U64 = Int("u64", 8, False)
I32 = Int("i32", 4, True)
I64 = Int("i64", 8, True)


class FenT(Int):
    def __init__(self):
        super().__init__("Fen (i64 >= 0)", 8, True)

    def to_json(self, v, path):
        if v < 0:
            raise FormatError("%s: negative amount %d" % (path, v))
        return v

    def from_json(self, v, path):
        v = super().from_json(v, path)
        return self.to_json(v, path)


class DateT(Int):
    def __init__(self):
        super().__init__("Date (i32 days)", 4, True)

    def to_json(self, v, path):
        if not MIN_DAY <= v <= MAX_DAY:
            raise FormatError("%s: day %d outside 1900..=2199" % (path, v))
        return days_to_date(v)

    def decode(self, r, path):
        v = self.to_json(self.read_int(r, path), path)
        if r.trace is not None:
            r.trace[-1] = r.trace[-1][:4] + ("%d = %s" % (r.trace[-1][4], v),)
        return v

    def encode(self, v, path):
        return date_to_days(v).to_bytes(4, "big", signed=True)


FEN = FenT()
DATE = DateT()


class BoolT:
    mem = 1

    def decode(self, r, path):
        r.claim(1)
        b = r.take(1, path, "bool")[0]
        if b not in (0, 1):
            raise FormatError("%s: bool byte %d" % (path, b))
        return b == 1

    def encode(self, v, path):
        if not isinstance(v, bool):
            raise FormatError("%s: %r is not a bool" % (path, v))
        return b"\x01" if v else b"\x00"


BOOL = BoolT()


class Str:
    """u64 byte length, UTF-8 bytes; a validated string type."""

    def __init__(self, name, check):
        self.name, self.check = name, check

    def decode(self, r, path):
        n = U64.read_int(r, path + ".len", "length (bytes)")
        r.claim(n)
        raw = r.take(n, path, self.name + " UTF-8")
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("%s: not UTF-8" % path)
        if r.trace is not None:
            r.trace[-1] = r.trace[-1][:4] + (s,)
        self.check(s)
        return s

    def encode(self, v, path):
        if not isinstance(v, str):
            raise FormatError("%s: %r is not a string" % (path, v))
        self.check(v)
        b = v.encode("utf-8")
        return len(b).to_bytes(8, "big") + b


class Bytes:
    """A fixed-size byte array written raw; JSON as hex or base64."""

    def __init__(self, name, n, form):
        self.name, self.n, self.form = name, n, form

    def decode(self, r, path):
        r.claim(self.n)
        raw = r.take(self.n, path, self.name)
        value = self.to_json(raw, path)
        if r.trace is not None:
            r.trace[-1] = r.trace[-1][:4] + (value,)
        return value

    def to_json(self, raw, path):
        if self.form == "hex":
            return raw.hex()
        return base64.b64encode(raw).decode()

    def from_json(self, v, path):
        if not isinstance(v, str):
            raise FormatError("%s: %r is not a string" % (path, v))
        try:
            if self.form == "hex":
                if not re.fullmatch(r"[0-9a-fA-F]*", v):
                    raise ValueError("not hex")
                raw = bytes.fromhex(v)
            else:
                raw = base64.b64decode(v, validate=True)
                if base64.b64encode(raw).decode() != v:
                    raise ValueError("not canonical base64")
        except (ValueError, binascii.Error) as e:
            raise FormatError("%s: %r: %s" % (path, v, e))
        if len(raw) != self.n:
            raise FormatError("%s: %d bytes, want %d" % (path, len(raw), self.n))
        return raw

    def encode(self, v, path):
        return self.from_json(v, path)


HASH = Bytes("Hash (32 bytes)", 32, "hex")
PUBKEY = Bytes("Ed25519 public key", 32, "b64")
SIGNATURE = Bytes("Ed25519 signature", 64, "b64")


class UsccT(Bytes):
    def __init__(self):
        super().__init__("USCC (18 ASCII bytes)", 18, "ascii")
        self.mem = 18  # in-memory size charged per Vec element (FORMAT.md 3.5)

    def to_json(self, raw, path):
        s = "".join(chr(b) for b in raw)
        if any(c not in USCC_ALPHABET for c in s):
            raise FormatError("%s: %r is not in the USCC alphabet" % (path, raw))
        return s

    def from_json(self, v, path):
        if not isinstance(v, str) or len(v) != 18 or any(c not in USCC_ALPHABET for c in v):
            raise FormatError("%s: %r is not 18 USCC characters" % (path, v))
        return v.encode("ascii")


USCC = UsccT()


class Vec:
    def __init__(self, item):
        self.item = item

    def decode(self, r, path):
        n = U64.read_int(r, path + ".len", "count")
        mem = self.item.mem
        r.claim(n * mem)
        out = []
        for i in range(n):
            r.claimed -= mem
            out.append(self.item.decode(r, "%s[%d]" % (path, i)))
        return out

    def encode(self, v, path):
        if not isinstance(v, list):
            raise FormatError("%s: %r is not a list" % (path, v))
        out = len(v).to_bytes(8, "big")
        for i, x in enumerate(v):
            out += self.item.encode(x, "%s[%d]" % (path, i))
        return out


class Opt:
    def __init__(self, item):
        self.item = item

    def decode(self, r, path):
        r.claim(1)
        tag = r.take(1, path + ".tag", "Option tag")[0]
        if r.trace is not None:
            r.trace[-1] = r.trace[-1][:4] + ({0: "0 = None", 1: "1 = Some"}.get(tag, tag),)
        if tag == 0:
            return None
        if tag == 1:
            return self.item.decode(r, path)
        raise FormatError("%s: Option tag %d" % (path, tag))

    def encode(self, v, path):
        if v is None:
            return b"\x00"
        return b"\x01" + self.item.encode(v, path)


class Struct:
    def __init__(self, name, fields, mem=None):
        self.name, self.fields, self.mem = name, fields, mem

    def decode(self, r, path):
        return {f: t.decode(r, path + "." + f) for f, t in self.fields}

    def encode(self, v, path, extra=()):
        if not isinstance(v, dict):
            raise FormatError("%s: %r is not an object" % (path, v))
        known = set(f for f, _ in self.fields) | set(extra)
        unknown = set(v) - known
        if unknown:
            raise FormatError("%s: unknown field(s) %s" % (path, sorted(unknown)))
        out = b""
        for f, t in self.fields:
            if f not in v and not isinstance(t, Opt):
                raise FormatError("%s: missing field %r" % (path, f))
            out += t.encode(v.get(f), path + "." + f)
        return out


class Enum:
    """u32 variant index, then the variant's fields.

    style "internal": JSON {"type": name, fields...}; style "external":
    unit variants as "name", newtype variants as {"name": value}, struct
    variants as {"name": {fields...}}."""

    def __init__(self, name, style, variants):
        self.name, self.style = name, style
        self.variants = []
        for vname, payload in variants:
            if isinstance(payload, list):
                payload = Struct(name + "::" + vname, payload)
            self.variants.append((vname, payload))
        self.mem = None

    def decode(self, r, path):
        idx = U32.read_int(r, path + ".variant", self.name + " variant index")
        if idx >= len(self.variants):
            raise FormatError("%s: %s variant index %d (have %d)" % (path, self.name, idx, len(self.variants)))
        vname, payload = self.variants[idx]
        if r.trace is not None:
            r.trace[-1] = r.trace[-1][:4] + ("%d = %s" % (idx, vname),)
        if self.style == "internal":
            out = {"type": vname}
            out.update(payload.decode(r, path))
            return out
        if payload is None:
            return vname
        return {vname: payload.decode(r, path + "." + vname)}

    def encode(self, v, path):
        if self.style == "internal":
            if not isinstance(v, dict) or "type" not in v:
                raise FormatError("%s: %r has no \"type\"" % (path, v))
            vname, body = v["type"], v
        elif isinstance(v, str):
            vname, body = v, None
        elif isinstance(v, dict) and len(v) == 1:
            (vname, body), = v.items()
        else:
            raise FormatError("%s: %r is not a %s" % (path, v, self.name))
        for idx, (name, payload) in enumerate(self.variants):
            if name == vname:
                break
        else:
            raise FormatError("%s: unknown %s variant %r" % (path, self.name, vname))
        out = idx.to_bytes(4, "big")
        if self.style == "internal":
            return out + payload.encode(body, path, extra=("type",))
        if payload is None:
            if body is not None:
                raise FormatError("%s: unit variant %r has a value" % (path, vname))
            return out
        return out + payload.encode(body, path + "." + vname)


def unit_enum(name, names):
    return Enum(name, "external", [(n, None) for n in names])


# ---- The schema: FORMAT.md sections 4 and 5 -------------------------------

CONTRACT_ID = Str("ContractId", check_contract_id)
TEXT = Str("Text", check_text)
NAME = Str("Name", check_name)
MASKED_NAME = Str("MaskedName", check_masked_name)
SIGNER_NAME = Str("SignerName", check_signer_name)

SUBJECT = Enum("Subject", "external", [
    ("org", USCC),
    ("person", [("masked_name", MASKED_NAME), ("commitment", HASH)]),
])
ROLE = unit_enum("Role", ["node", "credit_office", "source_unit", "market_entity", "data_feed", "service_agency"])
CATEGORY = unit_enum("Category", [
    "government_procurement", "investment_promotion", "public_private_partnership", "construction",
    "state_asset_transaction", "public_resource_trading", "policy_support", "commercial",
])

# In-memory sizes the reference decoder charges per Vec element (FORMAT.md 3.5).
KEY_REGISTRATION = Struct("KeyRegistration", [
    ("name", SIGNER_NAME),
    ("public_key", PUBKEY),
    ("holder", SUBJECT),
    ("holder_name", NAME),
    ("role", ROLE),
    ("valid_from_ms", Opt(I64)),
    ("valid_until_ms", Opt(I64)),
], mem=176)
MILESTONE = Struct("Milestone", [
    ("number", U32),
    ("obligor", SUBJECT),
    ("obligee", SUBJECT),
    ("due", DATE),
    ("description", TEXT),
    ("amount", FEN),
], mem=152)
PARTY = Struct("Party", [("subject", SUBJECT), ("name", NAME), ("role", NAME)], mem=104)
SOURCE = Enum("Source", "external", [
    ("department", None),
    ("self_filed", None),
    ("import", [("external_ref", NAME)]),
    ("delegated", [("principal", USCC)]),
])
CONTRACT = Struct("Contract", [
    ("id", CONTRACT_ID),
    ("category", CATEGORY),
    ("name", NAME),
    ("parties", Vec(PARTY)),
    ("summary", TEXT),
    ("amount", FEN),
    ("signed", DATE),
    ("milestones", Vec(MILESTONE)),
    ("document_sha256", Opt(HASH)),
    ("source", SOURCE),
])
EXTENT = unit_enum("Extent", ["full", "partial"])
GROUND = unit_enum("ExemptionGround", ["force_majeure", "accident", "changed_circumstances"])
OUTCOME = Enum("MediationOutcome", "external", [("settled", [("milestones", Vec(MILESTONE))]), ("failed", None)])
RULE_SET = Struct("RuleSet", [
    ("version", U32),
    ("utc_offset_minutes", I32),
    ("reminder_days", Vec(U32)),
    ("grace_days", U32),
    ("dispute_days", U32),
    ("objection_days", U32),
    ("initial_score", I64),
    ("on_time_delta", I64),
    ("on_time_yearly_cap", I64),
    ("contract_on_time_delta", I64),
    ("late_delta", I64),
    ("partial_default_delta", I64),
    ("full_default_delta", I64),
    ("demand_notice_delta", I64),
    ("black_defaults", U32),
    ("black_window_days", U32),
    ("black_min_days", U32),
    ("black_max_days", U32),
    ("red_min_score", I64),
    ("red_min_contracts", U32),
    ("red_window_days", U32),
    ("legacy_uscc", Vec(USCC)),
])
EVENT = Enum("Event", "internal", [
    ("genesis", [("origin", NAME), ("node_key", KEY_REGISTRATION), ("office_keys", Vec(KEY_REGISTRATION)), ("rules", RULE_SET)]),
    ("key_registered", [("key", KEY_REGISTRATION)]),
    ("key_revoked", [("name", SIGNER_NAME), ("key_id", U32), ("reason", TEXT)]),
    ("rule_set_published", [("rules", RULE_SET)]),
    ("contract_filed", [("contract", CONTRACT)]),
    ("filing_acknowledged", [("contract", CONTRACT_ID), ("party", SUBJECT)]),
    ("contract_amended", [("contract", CONTRACT_ID), ("amendment", U32), ("milestones", Vec(MILESTONE)), ("reason", TEXT)]),
    ("performance_confirmed", [("contract", CONTRACT_ID), ("milestone", U32), ("performed", DATE), ("evidence", Opt(HASH))]),
    ("performance_claimed", [("contract", CONTRACT_ID), ("milestone", U32), ("performed", DATE), ("evidence", Opt(HASH))]),
    ("claim_disputed", [("contract", CONTRACT_ID), ("milestone", U32), ("reason", TEXT)]),
    ("non_performance_reported", [("contract", CONTRACT_ID), ("milestone", U32), ("extent", EXTENT), ("reason", TEXT)]),
    ("exemption_claimed", [("contract", CONTRACT_ID), ("milestone", U32), ("ground", GROUND), ("event_date", DATE), ("statement", TEXT)]),
    ("exemption_decided", [("claim_index", U64), ("approved", BOOL), ("reason", TEXT)]),
    ("objection_filed", [("target_index", U64), ("statement", TEXT)]),
    ("objection_decided", [("objection_index", U64), ("upheld", BOOL), ("reason", TEXT)]),
    ("repair_applied", [("entity", SUBJECT), ("commitment", HASH)]),
    ("repair_decided", [("application_index", U64), ("approved", BOOL), ("reason", TEXT)]),
    ("delegation_granted", [("principal", USCC), ("agency", USCC), ("until", Opt(DATE))]),
    ("delegation_revoked", [("principal", USCC), ("agency", USCC)]),
    ("mediation_recorded", [("contract", CONTRACT_ID), ("outcome", OUTCOME), ("summary", TEXT)]),
    ("tick", []),
])
KEY_REF = Struct("KeyRef", [("name", SIGNER_NAME), ("id", U32)])
PAYLOAD = Struct("Payload", [("signer", KEY_REF), ("nonce", U64), ("event", EVENT)])
SIGNED = Struct("Signed", [("payload", PAYLOAD), ("signature", SIGNATURE)])
LIST_KIND = unit_enum("ListKind", ["red", "black"])
CLOSURE = unit_enum("Closure", ["on_time", "late", "deemed", "exempt", "defaulted"])
DERIVED = Enum("Derived", "internal", [
    ("reminder_issued", [("contract", CONTRACT_ID), ("milestone", U32), ("due", DATE), ("days_before", U32), ("cause", U64)]),
    ("overdue_warning", [("contract", CONTRACT_ID), ("milestone", U32), ("due", DATE), ("cause", U64)]),
    ("default_determined", [("contract", CONTRACT_ID), ("milestone", U32), ("entity", SUBJECT), ("extent", EXTENT), ("cause", U64)]),
    ("default_reversed", [("default_index", U64), ("cause", U64)]),
    ("demand_notice_published", [("entity", SUBJECT), ("defaults", Vec(U64)), ("cause", U64)]),
    ("score_changed", [("entity", SUBJECT), ("delta", I64), ("total", I64), ("rule", TEXT), ("cause", U64)]),
    ("list_changed", [("entity", SUBJECT), ("list", LIST_KIND), ("listed", BOOL), ("reason", TEXT), ("cause", U64)]),
    ("milestone_closed", [("contract", CONTRACT_ID), ("milestone", U32), ("closure", CLOSURE), ("cause", U64)]),
])
BODY = Enum("Body", "external", [("submitted", SIGNED), ("derived", DERIVED)])
ENTRY = Struct("Entry", [("index", U64), ("time_ms", I64), ("prev", HASH), ("body", BODY)])

# Roles allowed to sign each event kind (FORMAT.md 5.6, rule A4 of 13).
ALLOWED_ROLES = {
    "genesis": {"node"}, "tick": {"node"},
    "key_registered": {"credit_office"}, "key_revoked": {"credit_office"},
    "rule_set_published": {"credit_office"}, "exemption_decided": {"credit_office"},
    "objection_decided": {"credit_office"}, "repair_decided": {"credit_office"},
    "contract_filed": {"source_unit", "market_entity", "data_feed", "service_agency"},
    "delegation_granted": {"market_entity"}, "delegation_revoked": {"market_entity"},
    "mediation_recorded": {"service_agency"},
}
for _k in ["performance_confirmed", "non_performance_reported", "filing_acknowledged", "contract_amended",
           "performance_claimed", "claim_disputed", "exemption_claimed", "objection_filed", "repair_applied"]:
    ALLOWED_ROLES[_k] = {"source_unit", "market_entity"}


def decode(schema, data, trace=None):
    """Strict canonical decoding (FORMAT.md 3.4): returns the JSON form."""
    if len(data) == 0:
        raise FormatError("empty input: no version byte")
    if data[0] != FORMAT_VERSION:
        raise FormatError("unknown format version %d" % data[0])
    if len(data) > MAX_RECORD_SIZE:
        raise FormatError("record of %d bytes is over %d" % (len(data), MAX_RECORD_SIZE))
    if trace is not None:
        trace.append((0, data[:1], "version", "format version byte", data[0]))
    r = Reader(data[1:], trace=trace)
    value = schema.decode(r, "entry" if schema is ENTRY else schema.name)
    if r.pos != len(r.data):
        raise FormatError("%d trailing bytes after the record" % (len(r.data) - r.pos))
    if encode(schema, value) != data:
        raise FormatError("non-canonical: re-encodes to different bytes")
    return value


def encode(schema, value):
    out = bytes([FORMAT_VERSION]) + schema.encode(value, "entry" if schema is ENTRY else schema.name)
    if len(out) > MAX_RECORD_SIZE:
        raise FormatError("record of %d bytes is over %d" % (len(out), MAX_RECORD_SIZE))
    return out


# ---------------------------------------------------------------------------
# Hashes, Merkle tree, tiles (FORMAT.md 7, 10)
# ---------------------------------------------------------------------------


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(b):
    return sha256(b"\x00" + b)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def split_point(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    """RFC 6962 Merkle tree hash of a list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = split_point(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def inclusion_path(m, leaves):
    """RFC 6962 PATH(m, D[n])."""
    n = len(leaves)
    if n <= 1:
        return []
    k = split_point(n)
    if m < k:
        return inclusion_path(m, leaves[:k]) + [mth(leaves[k:])]
    return inclusion_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def consistency_proof(m, leaves):
    """RFC 6962 PROOF(m, D[n]) for 0 < m <= n."""
    def subproof(m, d, b):
        n = len(d)
        if m == n:
            return [] if b else [mth(d)]
        k = split_point(n)
        if m <= k:
            return subproof(m, d[:k], b) + [mth(d[k:])]
        return subproof(m - k, d[k:], False) + [mth(d[:k])]
    return subproof(m, leaves, True)


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 2.1.4.2 (with lvyue's edge rules: first > 0; equal sizes need an empty proof)."""
    if first == 0 or first > second:
        return False
    if first == second:
        return proof == [] and first_hash == second_hash
    if not proof:
        return False
    proof = list(proof)
    if first & (first - 1) == 0:  # a power of two
        proof = [first_hash] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def stored_hash_count(n):
    return 2 * n - bin(n).count("1")


def stored_hash_index(level, k):
    return stored_hash_count(((k + 1) << level) - 1) + level


def build_stored_hashes(leaves):
    """The append procedure of FORMAT.md 10.4."""
    stored = []
    for n, leaf in enumerate(leaves):
        h = leaf
        stored.append(h)
        level = 0
        while (n >> level) & 1:
            left = stored[stored_hash_index(level, (n >> level) - 1)]
            h = node_hash(left, h)
            level += 1
            stored.append(h)
    return stored


def tile_path(level, n, width, entries=False):
    groups = []
    while True:
        groups.append(n % 1000)
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    s = "/".join(["x%03d" % g for g in groups[:-1]] + ["%03d" % groups[-1]])
    if width < 256:
        s += ".p/%d" % width
    return ("tile/entries/" if entries else "tile/%d/" % level) + s


# ---------------------------------------------------------------------------
# Keys, notes, checkpoints (FORMAT.md 8, 9)
# ---------------------------------------------------------------------------


def key_id(name, pubkey):
    return int.from_bytes(sha256(name.encode() + b"\n" + b"\x01" + pubkey)[:4], "big")


def parse_vkey(s):
    name, idhex, b64 = s.split("+", 2)
    if not re.fullmatch(r"[0-9a-f]{8}", idhex):
        raise FormatError("vkey %r: key id is not 8 lowercase hex digits" % s)
    raw = base64.b64decode(b64, validate=True)
    if base64.b64encode(raw).decode() != b64 or len(raw) != 33 or raw[0] != 0x01:
        raise FormatError("vkey %r: want canonical base64 of 0x01 || 32 bytes" % s)
    return name, int(idhex, 16), raw[1:]


def parse_note(note):
    """Splits a signed note into (text, [(name, key id, signature)])."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise FormatError("note has a control character")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise FormatError("note has no blank line")
    text, block = note[: cut + 1], note[cut + 2 :]
    if not block.endswith("\n"):
        raise FormatError("signature block does not end in a newline")
    sigs = []
    for line in block[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise FormatError("signature line %r does not start with an em dash and a space" % line)
        name, _, b64 = line[2:].partition(" ")
        raw = base64.b64decode(b64, validate=True)
        if base64.b64encode(raw).decode() != b64 or len(raw) < 5:
            raise FormatError("signature line %r: bad base64" % line)
        sigs.append((name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return text, sigs


def parse_checkpoint_body(text):
    if not text.endswith("\n"):
        raise FormatError("checkpoint body does not end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise FormatError("checkpoint body has fewer than 3 lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not re.fullmatch(r"0|[1-9][0-9]*", size):
        raise FormatError("checkpoint size %r is not canonical decimal" % size)
    raw = base64.b64decode(root, validate=True)
    if len(raw) != 32 or base64.b64encode(raw).decode() != root:
        raise FormatError("checkpoint root %r is not canonical base64 of 32 bytes" % root)
    return origin, int(size), raw, lines[3:]


# ---------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------


class Checker:
    """Collects mismatches. Each failure is tagged with the current group;
    done(what, group) reports a group as ok or FAIL."""

    def __init__(self):
        self.failures = []  # (group, message)
        self.passed = []
        self.group = None
        self.reported = set()

    def ok(self, cond, what, detail=""):
        if cond:
            return True
        self.failures.append((self.group, "%s%s" % (what, (": " + detail) if detail else "")))
        return False

    def done(self, what, group=None):
        new = [i for i, (g, _) in enumerate(self.failures) if g == group and i not in self.reported]
        self.reported.update(new)
        if new:
            print("FAIL %s (%d mismatches, listed below)" % (what, len(new)))
        else:
            self.passed.append(what)
            print("ok   %s" % what)
        self.group = None


def diff(a, b, path, out):
    """Field-by-field comparison of two JSON values; appends differences."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append("%s.%s: missing in decoded value" % (path, k))
            elif k not in b:
                out.append("%s.%s: missing in golden json" % (path, k))
            else:
                diff(a[k], b[k], "%s.%s" % (path, k), out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: %d items decoded, %d in json" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
    elif type(a) is not type(b) or a != b:
        out.append("%s: decoded %r, json has %r" % (path, a, b))


def first_difference(a, b):
    return next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))


def count_fields(v):
    if isinstance(v, dict):
        return sum(count_fields(x) for x in v.values())
    if isinstance(v, list):
        return sum(count_fields(x) for x in v)
    return 1


def check_uscc_subjects(event, legacy=()):
    """The organisation codes admission checks (FORMAT.md 13, rules A5 and G4)."""
    codes = []

    def subj(s):
        if isinstance(s, dict) and "org" in s:
            codes.append(s["org"])

    t = event["type"]
    if t == "genesis":
        for k in [event["node_key"]] + event["office_keys"]:
            subj(k["holder"])
    elif t == "key_registered":
        subj(event["key"]["holder"])
    elif t == "contract_filed":
        c = event["contract"]
        for p in c["parties"]:
            subj(p["subject"])
        for m in c["milestones"]:
            subj(m["obligor"])
            subj(m["obligee"])
        if isinstance(c["source"], dict) and "delegated" in c["source"]:
            codes.append(c["source"]["delegated"]["principal"])
    elif t == "filing_acknowledged":
        subj(event["party"])
    elif t == "repair_applied":
        subj(event["entity"])
    elif t in ("delegation_granted", "delegation_revoked"):
        codes += [event["principal"], event["agency"]]
    return [c for c in codes if c not in legacy and uscc_expected_check(c) != c[17]]


def negative_cases(chk, entries):
    """Corruptions that a strict decoder must refuse (FORMAT.md 3.4)."""
    by_index = {e["index"]: bytes.fromhex(e["canonical_hex"]) for e in entries}
    tick, claimed, derived = by_index[5], by_index[3], by_index[4]
    cases = [
        ("empty input", b""),
        ("unknown version 0x02", b"\x02" + tick[1:]),
        ("one trailing byte", tick + b"\x00"),
        ("truncated by one byte", tick[:-1]),
        ("Body variant index 2", tick[:49] + (2).to_bytes(4, "big") + tick[53:]),
        ("Event variant index 21", tick[:-68] + (21).to_bytes(4, "big") + tick[-64:]),
        ("Option tag 0x02 (evidence)", claimed[:-65] + b"\x02" + claimed[-64:]),
        ("Subject variant index 2", derived[:57] + (2).to_bytes(4, "big") + derived[61:]),
        ("USCC byte outside the alphabet", derived[:61] + b"I" + derived[62:]),
        ("string length past the end", tick[:53] + (200).to_bytes(8, "big") + tick[61:]),
        ("string length over the allocation limit", tick[:53] + (0xFFFF).to_bytes(8, "big") + tick[61:]),
        ("over 65,535 bytes", b"\x01" + b"\x00" * MAX_RECORD_SIZE),
    ]
    for what, data in cases:
        try:
            decode(ENTRY, data)
        except FormatError:
            continue
        chk.ok(False, "negative case %r" % what, "was accepted")
    # Date and Fen constraints, and a non-UTF-8 string, on hand-built values.
    date_bad = (MAX_DAY + 1).to_bytes(4, "big", signed=True)
    for what, schema, data in [
        ("Date after 2199-12-31", DATE, date_bad),
        ("negative Fen", FEN, (-1).to_bytes(8, "big", signed=True)),
        ("bool byte 2", BOOL, b"\x02"),
        ("Text not UTF-8", TEXT, (1).to_bytes(8, "big") + b"\xff"),
        ("MaskedName without 某", MASKED_NAME, (3).to_bytes(8, "big") + "王".encode()),
    ]:
        try:
            r = Reader(data)
            schema.decode(r, what)
        except FormatError:
            continue
        chk.ok(False, "negative case %r" % what, "was accepted")
    chk.done("%d corrupted byte strings refused by the strict decoder" % (len(cases) + 5))


def main(argv):
    args = argv[1:]
    path, dissect_index = GOLDEN, None
    while args:
        if args[0] == "--golden" and len(args) > 1:
            path, args = args[1], args[2:]
        elif args[0] == "--dissect" and len(args) > 1:
            dissect_index, args = int(args[1]), args[2:]
        else:
            print("usage: format_check.py [--golden PATH] [--dissect INDEX]")
            return 2
    try:
        with open(path, encoding="utf-8") as f:
            golden = json.load(f)
    except (OSError, ValueError) as e:
        print("format_check: FAILED: cannot read %s: %s" % (path, e))
        return 1
    if dissect_index is not None:
        dissect(golden, dissect_index)
        return 0
    print("format_check: %s against docs/FORMAT.md" % os.path.relpath(path))
    try:
        return run_checks(golden)
    except (FormatError, KeyError, IndexError, TypeError, ValueError) as e:
        print("MISMATCH golden file structure or encoding: %s: %s" % (type(e).__name__, e))
        print("format_check: FAILED")
        return 1


def run_checks(golden):
    print("note: Ed25519 signatures are NOT verified (no Ed25519 in the Python standard library)")
    chk = Checker()
    origin = golden["origin"]
    entries = golden["entries"]

    # --- keys: vkey strings and key ids (FORMAT.md 8.2, 8.3)
    vkeys = {}
    for role, k in sorted(golden["keys"].items()):
        try:
            name, kid, pub = parse_vkey(k["vkey"])
        except (FormatError, ValueError) as e:
            chk.ok(False, "vkey of %s" % role, str(e))
            continue
        chk.ok(key_id(name, pub) == kid, "key id of %s" % role,
               "vkey says %08x, SHA-256(name||0A||01||key)[:4] = %08x" % (kid, key_id(name, pub)))
        vkeys[role] = (name, kid, pub)
    chk.ok(vkeys.get("node", ("",))[0] == origin, "node key name", "is not the origin %r" % origin)
    chk.done("key ids of %d vkeys = SHA-256(name || 0x0A || 0x01 || pubkey)[:4]; node key name = origin"
             % len(vkeys))

    # --- entries
    prev = bytes(32)
    prev_time = None
    leaves = []
    seen_ids = {}
    registry = {}  # (name, id) -> registration JSON
    n_fields = 0
    for i, e in enumerate(entries):
        where = "entry %d" % i
        chk.group = "decode"
        data = bytes.fromhex(e["canonical_hex"])
        chk.ok(e["index"] == i, where, "golden index is %r" % e["index"])
        chk.ok(data[:1] == b"\x01", where, "version byte is %r" % data[:1])
        try:
            value = decode(ENTRY, data)
        except FormatError as err:
            chk.ok(False, where + " does not decode", str(err))
            leaves.append(leaf_hash(data))
            continue
        chk.group = "json"
        differences = []
        diff(value, e["json"], "entry", differences)
        chk.ok(not differences, where + " decoded vs json", "; ".join(differences[:5]))
        n_fields += count_fields(value)
        try:
            from_json = encode(ENTRY, e["json"])
            chk.ok(from_json == data, where + " json -> canonical",
                   "encoding the json differs from canonical_hex first at byte %d"
                   % first_difference(from_json, data))
        except FormatError as err:
            chk.ok(False, where + " json -> canonical", str(err))
        chk.group = "chain"
        chk.ok(value["index"] == i, where + " index", "says %d" % value["index"])
        chk.ok(value["prev"] == prev.hex(), where + " hash chain", "prev %s, want %s" % (value["prev"], prev.hex()))
        chk.ok(prev_time is None or value["time_ms"] >= prev_time, where + " node time", "went back")
        leaf = leaf_hash(data)
        chk.group = "leaf"
        chk.ok(leaf.hex() == e["leaf_hash"], where + " leaf hash", "computed %s, golden %s" % (leaf.hex(), e["leaf_hash"]))
        leaves.append(leaf)
        prev, prev_time = leaf, value["time_ms"]

        body = value["body"]
        chk.group = "message"
        if "submitted" in body:
            payload = body["submitted"]["payload"]
            canonical_payload = encode(PAYLOAD, payload)
            msg = SUBMISSION_LABEL + origin.encode() + b"\n" + canonical_payload
            chk.ok(e["signed_message_hex"] == msg.hex(), where + " signed message",
                   "label || origin || 0x0A || canonical(payload) differs from signed_message_hex"
                   " first at byte %d" % first_difference(msg, bytes.fromhex(e["signed_message_hex"] or "")))
            sid = sha256(SUBMISSION_ID_LABEL + canonical_payload)
            chk.ok(sid not in seen_ids, where + " replay", "same submission id as entry %s" % seen_ids.get(sid))
            seen_ids[sid] = i
            chk.group = "admission"
            admission_checks(chk, where, i, value["time_ms"], payload, registry, vkeys)
        else:
            chk.ok(e["signed_message_hex"] is None, where, "derived entry has a signed message")
            print("note entry %d is a derived record (%s): its encoding is checked; whether the rules"
                  " derive it (FORMAT.md 14 step 3.3) is not: this checker has no rules engine"
                  % (i, body["derived"]["type"]))
    chk.done("%d entries: version byte, strict decoding, no trailing bytes, canonical re-encoding"
             % len(entries), "decode")
    chk.done("%d decoded leaf values equal the golden json field by field; json -> bytes equal"
             % n_fields, "json")
    chk.done("index sequence, non-decreasing node time, hash chain prev = leaf hash of previous", "chain")
    chk.done("%d leaf hashes = SHA-256(0x00 || canonical bytes)" % len(leaves), "leaf")
    chk.done("%d signed messages = label || origin || 0x0A || canonical(payload) re-encoded here;"
             " submission ids distinct" % len(seen_ids), "message")
    chk.done("admission without signatures: registered signer key ids, roles, genesis rules, USCC checks",
             "admission")
    for role, (name, kid, pub) in sorted(vkeys.items()):
        reg = registry.get((name, kid))
        chk.ok(reg is not None and reg["registration"]["public_key"] == base64.b64encode(pub).decode(),
               "vkey of %s" % role, "its key is not the one registered in the log")
    chk.done("each vkey's public key is the one registered in the log")

    # --- checkpoints: roots and notes (FORMAT.md 9.1, 9.2, 10.1)
    node_name, node_id, _ = vkeys["node"]
    for cp in golden["checkpoints"]:
        n = cp["size"]
        where = "checkpoint %d" % n
        root = mth(leaves[:n])
        chk.ok(root.hex() == cp["root"], where + " root", "RFC 6962 root %s, golden %s" % (root.hex(), cp["root"]))
        try:
            text, sigs = parse_note(cp["note"])
            c_origin, c_size, c_root, ext = parse_checkpoint_body(text)
        except (FormatError, ValueError) as err:
            chk.ok(False, where + " note", str(err))
            continue
        chk.ok(c_origin == origin and c_size == n and not ext, where + " body", repr(text))
        chk.ok(c_root == root, where + " body root", "note says %s, computed %s" % (c_root.hex(), root.hex()))
        chk.ok(len(sigs) == 1 and sigs[0][0] == node_name and sigs[0][1] == node_id and len(sigs[0][2]) == 64,
               where + " signature line", "want one 64-byte signature by %s+%08x" % (node_name, node_id))
    chk.done("%d checkpoints: RFC 6962 roots = golden roots = roots in the note bodies;"
             " note layout and signer key id" % len(golden["checkpoints"]))

    # --- Merkle layout, tiles and proofs over the golden tree (FORMAT.md 10)
    stored = build_stored_hashes(leaves)
    chk.ok(len(stored) == stored_hash_count(len(leaves)), "stored hash count")
    for level in range(4):
        for k in range(len(leaves) >> level):
            h = mth(leaves[k << level : (k + 1) << level])
            chk.ok(stored[stored_hash_index(level, k)] == h, "stored hash (%d,%d)" % (level, k))
    chk.done("stored-hash layout: %d hashes, index(l, k) = count(((k+1)<<l) - 1) + l" % len(stored))
    chk.ok(tile_path(0, 1234067, 256) == "tile/0/x001/x234/067", "tile path", tile_path(0, 1234067, 256))
    chk.ok(tile_path(0, 0, 6, entries=True) == "tile/entries/000.p/6", "entry bundle path")
    tile = b"".join(stored[stored_hash_index(0, k)] for k in range(len(leaves)))
    chk.ok(tile == b"".join(leaves), "level-0 tile contents")
    bundle = b"".join(len(d).to_bytes(2, "big") + d for d in (bytes.fromhex(x["canonical_hex"]) for x in entries))
    rest, parsed = bundle, []
    while rest:
        n = int.from_bytes(rest[:2], "big")
        parsed.append(leaf_hash(rest[2 : 2 + n]))
        rest = rest[2 + n :]
    chk.ok(parsed == leaves, "entry bundle round trip")
    chk.done("tile paths, tile/0/000.p/%d = leaf hashes, entry bundle tile/entries/000.p/%d"
             " (u16 BE length || bytes) parses back" % (len(leaves), len(leaves)))
    n_proofs = 0
    for n in range(1, len(leaves) + 1):
        root = mth(leaves[:n])
        for m in range(n):
            p = inclusion_path(m, leaves[:n])
            chk.ok(verify_inclusion(m, n, leaves[m], p, root), "inclusion %d in %d" % (m, n))
            chk.ok(not verify_inclusion(m, n, leaves[m], p + [root], root), "inclusion %d in %d, extra hash" % (m, n))
            n_proofs += 1
        for m in range(1, n + 1):
            p = consistency_proof(m, leaves[:n])
            chk.ok(verify_consistency(m, n, mth(leaves[:m]), root, p), "consistency %d -> %d" % (m, n))
            n_proofs += 1
    chk.done("%d inclusion and consistency proofs over the golden tree verify (RFC 9162)" % n_proofs)

    negative_cases(chk, entries)
    export_digest_checks(chk, golden)

    if chk.failures:
        print()
        for _, f in chk.failures:
            print("MISMATCH %s" % f)
        print("format_check: FAILED (%d mismatches)" % len(chk.failures))
        return 1
    print("format_check: all %d checks passed (Ed25519 signatures not verified)" % len(chk.passed))
    return 0


def admission_checks(chk, where, index, time_ms, payload, registry, vkeys):
    """FORMAT.md 13: rule R is checked by the caller; G1-G4 and A1-A5 here; not A6 (signatures)."""
    event = payload["event"]
    signer = (payload["signer"]["name"], payload["signer"]["id"])
    t = event["type"]
    if t == "genesis":
        nk = event["node_key"]
        chk.ok(index == 0 and not registry, where, "genesis is not entry 0 of an empty registry")
        chk.ok(nk["role"] == "node", where, "genesis node key role is %r" % nk["role"])
        nid = key_id(nk["name"], base64.b64decode(nk["public_key"]))
        chk.ok(signer == (nk["name"], nid), where, "genesis not signed by its own node key")
        chk.ok(all(k["role"] == "credit_office" for k in event["office_keys"]), where, "office key role")
        new = [nk] + event["office_keys"]
    else:
        reg = registry.get(signer)
        if not chk.ok(reg is not None, where, "signer %s+%08x is not registered" % signer):
            return
        state, revoked = reg["registration"], reg["revoked_at"]
        chk.ok(revoked is None, where, "signer key revoked at %s" % revoked)
        vf, vu = state["valid_from_ms"], state["valid_until_ms"]
        chk.ok((vf is None or time_ms >= vf) and (vu is None or time_ms <= vu), where, "outside key validity")
        chk.ok(state["role"] in ALLOWED_ROLES[t], where, "role %s may not sign %s" % (state["role"], t))
        new = []
        if t == "key_registered":
            chk.ok(event["key"]["role"] != "node", where, "key_registered registers a node key")
            new = [event["key"]]
        if t == "key_revoked":
            target = registry.get((event["name"], event["key_id"]))
            chk.ok(target is not None and target["revoked_at"] is None and target["registration"]["role"] != "node",
                   where, "key_revoked of an unknown, revoked or node key")
            if target is not None:
                target["revoked_at"] = index
    bad = check_uscc_subjects(event)
    chk.ok(not bad, where, "USCC with a wrong check character: %s" % bad)
    for k in new:
        kref = (k["name"], key_id(k["name"], base64.b64decode(k["public_key"])))
        chk.ok(kref not in registry, where, "key %s+%08x already registered" % kref)
        registry[kref] = {"registration": k, "registered_at": index, "revoked_at": None}


# --- Exports (FORMAT.md 19.3, 19.4): content encoding and digest

EXPORT_DIGEST_LABEL = b"lvyue/export/v1\n"

# The worked example of FORMAT.md 19.4, transcribed: the disclosure JSON and
# the digest the document states for it.
EXPORT_EXAMPLE = {
    "origin": "lvyue.example/golden", "size": 6,
    "root": "7a9d2dae1d59802d101b9c40e783d16548eca1b15d12ca015a715825c37e9f56",
    "red_list": [],
    "black_list": [{"entity": {"org": "91350100M000100Y43"}, "name": "某科技有限公司", "score": 930,
                    "since": "2026-03-01", "since_index": 40, "reason": "demand notice published", "cause": 38}],
    "demand_notices": [{"index": 38, "entity": {"org": "91350100M000100Y43"}, "name": "某科技有限公司",
                        "defaults": [12, 37], "published": "2026-03-01", "repair_from": "2026-05-30",
                        "publicity_until": "2027-03-01"}],
}
EXPORT_EXAMPLE_LEN = 297
EXPORT_EXAMPLE_DIGEST = "f0780d98b122a28acb7e2526d0f2429f2d448631acf5f479f7abb9391e150187"


def _x_string(v):
    b = v.encode("utf-8")
    return len(b).to_bytes(8, "big") + b


def _x_date(v):
    days = (datetime.date.fromisoformat(v) - datetime.date(1970, 1, 1)).days
    return days.to_bytes(4, "big", signed=True)


def _x_subject(v):
    if "org" in v:
        return (0).to_bytes(4, "big") + v["org"].encode("ascii")
    p = v["person"]
    return (1).to_bytes(4, "big") + _x_string(p["masked_name"]) + bytes.fromhex(p["commitment"])


def _x_vec(items, f):
    return len(items).to_bytes(8, "big") + b"".join(f(x) for x in items)


def _x_u64(v):
    return v.to_bytes(8, "big")


def _x_listing(v):
    return (_x_subject(v["entity"]) + _x_string(v["name"]) + v["score"].to_bytes(8, "big", signed=True)
            + _x_date(v["since"]) + _x_u64(v["since_index"]) + _x_string(v["reason"]) + _x_u64(v["cause"]))


def _x_notice(v):
    return (_x_u64(v["index"]) + _x_subject(v["entity"]) + _x_string(v["name"]) + _x_vec(v["defaults"], _x_u64)
            + _x_date(v["published"]) + _x_date(v["repair_from"]) + _x_date(v["publicity_until"]))


def encode_disclosure(v):
    """FORMAT.md 19.3: the Disclosure's fields in order, no version byte."""
    return (_x_string(v["origin"]) + _x_u64(v["size"]) + bytes.fromhex(v["root"])
            + _x_vec(v["red_list"], _x_listing) + _x_vec(v["black_list"], _x_listing)
            + _x_vec(v["demand_notices"], _x_notice))


def export_digest_checks(chk, golden):
    chk.group = "exports"
    data = encode_disclosure(EXPORT_EXAMPLE)
    chk.ok(len(data) == EXPORT_EXAMPLE_LEN, "export example length", "%d bytes" % len(data))
    digest = sha256(EXPORT_DIGEST_LABEL + data).hex()
    chk.ok(digest == EXPORT_EXAMPLE_DIGEST, "export example digest", digest)
    # The example's tree is the golden log's size-6 tree: its root is the checkpoint's.
    cp = [c for c in golden["checkpoints"] if c["size"] == EXPORT_EXAMPLE["size"]]
    chk.ok(bool(cp) and cp[0]["root"] == EXPORT_EXAMPLE["root"], "export example root",
           "is not the golden size-6 root")
    chk.done("export content digest = SHA-256(lvyue/export/v1 0A || encoding) of the 19.4 example")


def dissect(golden, index):
    """Prints the byte-by-byte layout of one golden entry (FORMAT.md 15)."""
    e = golden["entries"][index]
    data = bytes.fromhex(e["canonical_hex"])
    trace = []
    decode(ENTRY, data, trace)
    print("| offset | bytes (hex) | field | value |")
    print("|---:|---|---|---|")
    for off, raw, path, what, value in trace:
        h = raw.hex()
        if len(h) > 40:
            h = h[:32] + "…(%d bytes)" % len(raw)
        if isinstance(value, (bytes, bytearray)) or value is None:
            value = ""
        print("| %d | `%s` | %s | %s: %s |" % (off, h, path, what, value))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
