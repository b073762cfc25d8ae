"""Does a feedback page show hidden-test text, in any form a learner could smuggle it out in?

A submission's outputs are produced while it is graded, so a learner who got hold of the
hidden tests at that moment could print them back to themselves through the feedback page,
disguised. The check works on fingerprints of the hidden lines and on every string of the
page decoded in the ways a learner would use: HTML entities, URL/percent and
quoted-printable escapes, ``\\uXXXX``/``\\xXX``/octal escapes, base64 (standard and URL-safe,
at any alignment, split across lines), base32, base85/ascii85, hex (with or without
separators), lists of character codes, bit strings, UTF-16, zlib/gzip/bz2/lzma streams, ROT47,
recursively (three layers: zlib inside base64 inside hex). Each decoded string is compared
after normalisation (Unicode NFKC, common look-alike letters folded, zero-width and control
characters and ANSI colours dropped, case folded, whitespace removed - so splitting a line
across outputs or spaces does not hide it) and, for whole lines, on letters and digits alone
(so ``c.h.e.c.k`` does not either), against each fingerprint as written, reversed,
Caesar-shifted (ROT1-25) and Atbash-mirrored. The page's text is also read backwards and
through ROT47 before decoding.

Fingerprints of a hidden line (lines of 12 or more characters inside BEGIN/END HIDDEN TESTS):
the whole line, and its *pieces* - stretches of code between string literals, comments, and
string literals without spaces (identifiers, ids) - of 16 or more characters that appear
nowhere a learner already sees (the lab with its hidden regions cut). Prose string literals
(check messages) are not fingerprints: a failed check shows its message by design.

This cannot see text that is encrypted with a key; the guarantee against that is that hidden
tests never reach the learner's process. The scan is the second line.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import html
import lzma
import quopri
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
MIN_LINE = 12  # a hidden line shorter than this is not distinctive ("pass", "x = 1")
MIN_PIECE = 16  # normalised characters for a piece of a line to count as a fingerprint
KEY = 12  # window length used to find fingerprint candidates in a text
DEPTH = 3  # layers of encoding unwrapped
BUDGET = 40_000_000  # characters decoded per page; past this the page is not shown
MAX_INFLATE = 2_000_000

# Letters that look like Latin ones (Cyrillic, Greek); NFKC does not fold them.
_LOOKALIKE = str.maketrans("аеорсхуіјѕкмнтвԁɡԛԝαοριτνκχυεЅІЈАВЕКМНОРСТХУ",
                           "aeopcxyijskmhtbdgqwaopitvkxyesijabekmhopctxy")
_INVISIBLE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5"
                        r"\u180b-\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]")
_SPACE = re.compile(r"\s+")
_STRING = re.compile(r"""(?:[rRbBuUfF]{0,2})(\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')""")


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u0600-\u0605\u06dd\u070f\u08e2\U000110bd"
                      "\u2028-\u202e\u2061-\u2064\ufff9-\ufffb]")


def normalise(text: str) -> str:
    """Case-folded, look-alike-folded NFKC text without whitespace or invisible characters."""
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    return _SPACE.sub("", _CONTROL.sub("", text).casefold().translate(_LOOKALIKE))


def alnum(normalised: str) -> str:
    return re.sub(r"[^0-9a-z]", "", normalised)


def _caesar(text: str, k: int) -> str:
    return "".join(chr((ord(c) - 97 + k) % 26 + 97) if "a" <= c <= "z" else c for c in text)


def _atbash(text: str) -> str:
    return "".join(chr(219 - ord(c)) if "a" <= c <= "z" else c for c in text)


def _variants(fp: str):
    """(form, how) for a normalised fingerprint and its letter-shifted and mirrored forms."""
    for base, rev in ((fp, ""), (fp[::-1], "reversed ")):
        yield base, rev.strip()
        for k in range(1, 26):
            yield _caesar(base, k), f"{rev}ROT{26 - k}"
        yield _atbash(base), f"{rev}Atbash"


def hidden_regions(source: str) -> list[str]:
    return re.findall(re.escape(BEGIN) + r"(.*?)" + re.escape(END), source, re.S)


def without_hidden(source: str) -> str:
    return re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), "", source, flags=re.S)


def _pieces(line: str) -> list[str]:
    """Code between string literals, the comment, and space-free string literals."""
    out = []
    for match in _STRING.finditer(line):
        if not re.search(r"\s", match.group(1)[1:-1]):
            out.append(match.group(1)[1:-1])
    code = _STRING.sub("\0", line)
    if "#" in code:
        code, comment = code.split("#", 1)
        out.append("#" + comment.replace("\0", ""))
    out.extend(code.split("\0"))
    return out


@dataclass(frozen=True)
class Leak:
    line: str  # the hidden line it matches
    how: str  # e.g. "base64 > zlib, reversed"
    where: str  # which part of the page

    def __str__(self):
        return f"{self.where}: {self.how} of hidden line {self.line!r}"


@dataclass
class Fingerprints:
    """Fingerprints of a lab's hidden lines, indexed for a sliding-window search."""

    lines: set[str]
    visible: str = ""  # normalised text a learner already sees (lab without hidden regions)
    strong: dict = field(default_factory=dict)  # key -> [(form, line, how)] whole lines
    weak: dict = field(default_factory=dict)  # pieces of lines
    strong_alnum: dict = field(default_factory=dict)

    @classmethod
    def of(cls, lines, visible_text: str = "") -> "Fingerprints":
        fps = cls(set(lines), normalise(visible_text))
        for line in fps.lines:
            fps._add(fps.strong, fps.strong_alnum, normalise(line), line)
            for piece in _pieces(line):
                form = normalise(piece)
                if len(form) >= MIN_PIECE and form not in fps.visible:
                    fps._add(fps.weak, None, form, line)
        return fps

    @classmethod
    def of_sources(cls, sources: list[str]) -> "Fingerprints":
        lines = {ln.strip() for src in sources for region in hidden_regions(src)
                 for ln in region.splitlines() if len(ln.strip()) >= MIN_LINE}
        return cls.of(lines, "\n".join(without_hidden(src) for src in sources))

    @staticmethod
    def _add(index: dict, alnum_index: dict | None, form: str, line: str) -> None:
        """Index ``form``; with ``alnum_index`` (whole lines only: on letters and digits alone
        a piece of code is too common) also its letters and digits."""
        if len(form) < KEY:
            return
        for variant, how in _variants(form):
            index.setdefault(variant[:KEY], []).append((variant, line, how))
        bare = alnum(form)
        if alnum_index is not None and len(bare) >= MIN_PIECE:
            for variant, how in _variants(bare):
                alnum_index.setdefault(variant[:KEY], []).append((variant, line, ", ".join(filter(None, [how, "letters and digits only"]))))

    def __bool__(self):
        return bool(self.lines)


def _search(text: str, index: dict) -> tuple[str, str] | None:
    if not index or len(text) < KEY:
        return None
    for i in range(len(text) - KEY + 1):
        hits = index.get(text[i:i + KEY])
        if hits:
            for form, line, how in hits:
                if text.startswith(form, i):
                    return line, how
    return None


# --- decoders: str -> [(str, name)] -----------------------------------------------------

def _text_of(data: bytes) -> list[tuple[str, str]]:
    out = []
    if len(data) >= 4 and data.count(0) * 3 >= len(data):
        for enc in ("utf-16-le", "utf-16-be"):
            out.append((data.decode(enc, "replace"), enc))
    out.append((data.decode("utf-8", "replace"), ""))
    return out


def _inflate(data: bytes) -> list[tuple[bytes, str]]:
    """Compressed streams found in ``data`` by their headers (zlib, gzip, bz2, xz), capped."""
    found = []
    starts = [(m.start(), "zlib", 15) for m in re.finditer(rb"\x78[\x01\x5e\x9c\xda]", data[:4096])][:4]
    starts += [(m.start(), "gzip", 31) for m in re.finditer(rb"\x1f\x8b", data[:4096])][:4]
    for pos, name, wbits in starts:
        try:
            out = zlib.decompressobj(wbits).decompress(data[pos:], MAX_INFLATE)
            if out:
                found.append((out, name))
        except zlib.error:
            pass
    for magic, name, make in ((b"BZh", "bz2", bz2.BZ2Decompressor), (b"\xfd7zXZ\x00", "xz", lzma.LZMADecompressor)):
        pos = data.find(magic, 0, 4096)
        if pos >= 0:
            try:  # a decompressor object gives what it could read of a cut-off stream too
                out = make().decompress(data[pos:pos + MAX_INFLATE], MAX_INFLATE)
                if out:
                    found.append((out, name))
            except (OSError, ValueError, EOFError, lzma.LZMAError):
                pass
    return found


def _readable(text: str) -> bool:
    """Mostly printable, few replacement characters: decoded text rather than noise."""
    if len(text) < KEY or text.count("\ufffd") * 20 > len(text):
        return False
    good = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    return good >= 0.9 * len(text)


def _from_bytes(data: bytes, name: str) -> list[tuple[str, str]]:
    """Text in decoded bytes: all of it when it reads as text, else its readable stretches
    (a decode started off its boundary has junk at the ends), and any compressed stream."""
    out = []
    for text, enc in _text_of(data):
        if _readable(text):
            out.append((text, f"{name} {enc}".strip()))
        else:
            parts = _READABLE.findall(text)
            if parts:
                out.append(("\n".join(parts), f"{name} {enc}".strip()))
    for inflated, how in _inflate(data):
        for text, enc in _text_of(inflated):
            out.append((text, f"{name} > {how} {enc}".strip()))
    return out


_READABLE = re.compile(r"[\x20-\x7e\t\n\r]{%d,}" % KEY)


_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_B32 = re.compile(r"[A-Z2-7]{16,}=*")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}(?:[\s:,._-]|\\x|0x)?){8,}")
_NUMS = re.compile(r"(?:(?:0x)?[0-9a-fA-F]{1,8}[\s,;]+){7,}(?:0x)?[0-9a-fA-F]{1,8}")
_BITS = re.compile(r"(?:[01]{8}[\s,]*){6,}")
_ESCAPE = re.compile(r"\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2})|"
                     r"([0-7]{1,3})|N\{([^}]+)\}|([nrtvfab\"'\\]))|%u([0-9a-fA-F]{4})")
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "v": "\v", "f": "\f", "a": "\a", "b": "\b"}
_B85 = re.compile(r"[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]{20,}")
_A85 = re.compile(r"[!-uz]{20,}")


def _unescape(text: str) -> str:
    def one(m):
        brace, u4, u8, x2, octal, name, simple, pct = m.groups()
        try:
            if name:
                return unicodedata.lookup(name)
            if simple:
                return _SIMPLE.get(simple, simple)
            code = int(brace or u4 or u8 or x2 or pct, 16) if not octal else int(octal, 8)
            return chr(code)
        except (ValueError, KeyError, OverflowError):
            return m.group(0)
    return _ESCAPE.sub(one, text)


def _b64(run: str) -> list[tuple[bytes, str]]:
    out = []
    alt = b"-_" if ("-" in run or "_" in run) else None
    body = run.rstrip("=")
    for offset in range(4):
        part = body[offset:]
        part = part[: len(part) - len(part) % 4] if len(part) % 4 == 1 else part
        try:
            out.append((base64.b64decode(part + "=" * (-len(part) % 4), altchars=alt), "base64"))
        except (binascii.Error, ValueError):
            pass
    return out


def _decodings(text: str, rot47: bool = False) -> list[tuple[str, str]]:
    """One layer of decoding of ``text``: [(decoded, encoding name)]; ROT47 only when asked
    (it rewrites every character, so it is tried on the page's own text only), and reversal."""
    out: list[tuple[str, str]] = []
    if "&" in text:
        out.append((html.unescape(text), "HTML entities"))
    if "%" in text:
        out.append((unquote_plus(text), "percent-encoding"))
    if "\\" in text or "%u" in text:
        out.append((_unescape(text), "escapes"))
    if re.search(r"=[0-9A-F]{2}", text):
        try:
            out.append((quopri.decodestring(text.encode("utf-8", "replace")).decode("utf-8", "replace"),
                        "quoted-printable"))
        except ValueError:
            pass
    if rot47:  # and reversed, for encodings applied to the reversed text
        out.append((text[::-1], "reversed"))
        out.append(("".join(chr(33 + (ord(c) - 33 + 47) % 94) if 33 <= ord(c) <= 126 else c
                            for c in text), "ROT47"))
    # Numbered lines ("001 chec", "002 k(ad") put back together without their numbers.
    if re.search(r"(?m)^\s*\d+\s*[:.)\]|-]?\s", text):
        out.append((re.sub(r"(?m)^\s*\d+\s*[:.)\]|-]?\s?", "", text), "numbered lines"))
    squeezed = _SPACE.sub("", text)
    blobs: list[tuple[bytes, str]] = []
    for source in {text, squeezed}:
        for m in _B64.finditer(source):
            blobs += _b64(m.group(0))
        for m in _B32.finditer(source.upper() if source is squeezed else source):
            run = m.group(0).rstrip("=")
            for offset in range(8):
                part = run[offset:]
                for body in (part + "=" * (-len(part) % 8), part[: len(part) - len(part) % 8]):
                    try:
                        blobs.append((base64.b32decode(body), "base32"))
                        break
                    except (binascii.Error, ValueError):
                        pass
        for m in _HEX.finditer(source):
            digits = re.sub(r"\\x|0x|[^0-9a-fA-F]", "", m.group(0))
            for offset in (0, 1):
                part = digits[offset:]
                try:
                    blobs.append((bytes.fromhex(part[: len(part) - len(part) % 2]), "hex"))
                except ValueError:
                    pass
    # base85 decoders are pure Python: base85 at every alignment for runs up to 2000
    # characters, ascii85 (whose alphabet covers most punctuation, so ordinary text is full of
    # runs) from the start only; nothing past 20 000 (a hidden line is about 100).
    for regex, decode, name in ((_B85, base64.b85decode, "base85"), (_A85, base64.a85decode, "ascii85")):
        for m in regex.finditer(text):
            run = m.group(0).removeprefix("<~").removesuffix("~>")
            if len(run) > 20_000 or run.isalnum():  # base85 of text has punctuation in it
                continue
            for offset in range(5 if len(run) <= 2000 and name == "base85" else 1):
                try:
                    blobs.append((decode(run[offset:]), name))
                except ValueError:
                    pass
    for m in _NUMS.finditer(text):
        tokens = re.findall(r"(?:0x)?[0-9a-fA-F]+", m.group(0))
        for base, name in ((10, "decimal codes"), (16, "hex codes"), (8, "octal codes")):
            try:
                codes = [int(t, 0 if t.startswith("0x") else base) for t in tokens]
                out.append(("".join(chr(c) for c in codes if c < 0x110000), name))
            except ValueError:
                pass
    for m in _BITS.finditer(text):
        bits = re.sub(r"[^01]", "", m.group(0))
        blobs.append((bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits) - 7, 8)), "binary"))
    for data, name in blobs:
        out += _from_bytes(data, name)
    return [(t, n) for t, n in out if t and t != text]


class TooLarge(Exception):
    """The page holds more text than can be checked; it is withheld rather than released."""


def find_leaks(texts: list[tuple[str, str]], fps: Fingerprints, strong_only: bool = False,
               first: bool = True) -> list[Leak]:
    """Leaks in ``texts`` ([(text, where)]), decoding up to DEPTH layers of encoding.

    ``strong_only``: whole hidden lines only (for text the learner wrote before grading, which
    may resemble the hidden code honestly). Raises TooLarge past BUDGET decoded characters.
    """
    if not fps:
        return []
    indexes = [(fps.strong, False), (fps.strong_alnum, True)]
    if not strong_only:
        indexes.append((fps.weak, False))
    leaks: list[Leak] = []
    seen: set[str] = set()
    budget = [BUDGET]

    def check(text: str, how: str, where: str, depth: int) -> bool:
        if len(text) < KEY or text in seen:
            return False
        seen.add(text)
        budget[0] -= len(text)
        if budget[0] < 0:
            raise TooLarge(f"more than {BUDGET} characters to check")
        form = normalise(text)
        for index, bare in indexes:
            hit = _search(alnum(form) if bare else form, index)
            if hit:
                line, shape = hit
                leaks.append(Leak(line, ", ".join(filter(None, [how, shape])) or "as written", where))
                return True
        if depth < DEPTH:
            for decoded, name in _decodings(text, rot47=depth == 0):
                if check(decoded, f"{how} > {name}" if how else name, where, depth + 1) and first:
                    return True
        return False

    for text, where in texts:
        if check(text, "", where, 0) and first:
            break
    return leaks
