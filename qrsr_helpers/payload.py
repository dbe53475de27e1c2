"""Payload bytes -> text, one policy for every decoder (issue 20). With an ECI: its charset, else binary (``hex:``).
Without: printable ASCII, UTF-8 (most generators omit the ECI), Shift_JIS with a kana/kanji lead byte 0x81-0x9F (C1
controls in ISO-8859-1) and no lone half-width katakana, ISO-8859-1 (the standard's default), else binary. OpenCV's
re-encoded bytes are undone where decidable; :func:`one_payload_per_symbol` settles texts that still differ."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

BINARY = "binary"  # the charset of a payload that is not text
# What a read's charset rests on, best first: an ECI or Kanji mode seen, the raw bytes, OpenCV's re-encoded bytes.
EVIDENCE = ("symbol", "raw bytes", "re-encoded bytes")
SYMBOL, RAW, REENCODED = EVIDENCE


@dataclass(frozen=True)
class Read:
    """``text`` read from ``data`` in ``charset`` ('ECI UTF-8', ..., 'binary') by ``rule``, resting on ``evidence``."""

    text: str
    data: bytes
    charset: str
    rule: str
    evidence: str = RAW

    @property
    def binary(self) -> bool:
        return self.charset == BINARY


_TEXT_CONTROLS = frozenset("\t\n\r\x04\x1d\x1e")  # TAB, LF, CR; EOT, GS, RS (GS1 / ISO 15434 data)
_NOT_TEXT = frozenset(("Cc", "Cs", "Co"))  # control, surrogate, private use

# ECI designator -> charset (each also a Python codec name), after AIM ECI / ISO/IEC 15424; 899 is binary data
_ECI_CHARSETS = {0: "CP437", 1: "ISO-8859-1", 2: "CP437", 3: "ISO-8859-1", 20: "Shift_JIS", 21: "windows-1250",
                 **{eci: f"ISO-8859-{eci - 2}" for eci in (*range(4, 14), *range(15, 19))}, 22: "windows-1251",
                 23: "windows-1252", 24: "windows-1256", 25: "UTF-16BE", 26: "UTF-8", 27: "ASCII", 28: "Big5",
                 29: "GB2312", 30: "EUC-KR", 31: "GBK", 32: "GB18030", 33: "UTF-16LE", 34: "UTF-32BE",
                 35: "UTF-32LE", 170: "ASCII"}


def is_text(text: str) -> bool:
    """Printable text: no control characters but TAB, LF, CR, EOT, GS, RS; no surrogates, no private use."""
    return text.isprintable() or all(c in _TEXT_CONTROLS or unicodedata.category(c) not in _NOT_TEXT for c in text)


def _binary(data: bytes, rule: str, evidence: str = RAW) -> Read:
    return Read("hex:" + data.hex(), data, BINARY, rule, evidence)


def _decoded(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _shift_jis(data: bytes) -> str | None:
    """``data`` as Shift_JIS (JIS X 0208, else Windows' cp932 extensions), None when it is not text in either."""
    text = _decoded(data, "shift_jis") or _decoded(data, "cp932")
    return text if text is not None and is_text(text) else None  # cp932's user-defined area is private use


def _kana_or_kanji(data: bytes) -> bool:
    """Valid Shift_JIS ``data`` that holds a double-byte character with a lead byte in 0x81-0x9F and no lone
    half-width katakana (0xA1-0xDF with no Japanese character either side: ISO-8859-1's letters À-ß)."""
    chars = re.findall(rb"[\x81-\x9f\xe0-\xfc].|.", data, re.DOTALL)  # lead byte + trail byte, or one byte
    kinds = ["J" if len(c) == 2 else "k" if 0xA1 <= c[0] <= 0xDF else "a" for c in chars]  # k: half-width katakana
    japanese = lambda j: 0 <= j < len(kinds) and kinds[j] in "Jk"
    lone_katakana = any(kind == "k" and not japanese(j - 1) and not japanese(j + 1) for j, kind in enumerate(kinds))
    return any(len(c) == 2 and c[0] <= 0x9F for c in chars) and not lone_katakana


def payload_read(data: bytes, eci: int | None = None) -> Read:
    """The payload ``data`` (bytes of a symbol, ``eci`` its ECI or None) as the module's policy reads it."""
    if eci is not None and eci not in _ECI_CHARSETS:
        return _binary(data, "ECI 899: binary" if eci == 899 else f"ECI {eci}: unknown charset", SYMBOL)
    if eci is not None:
        name = _ECI_CHARSETS[eci]
        text = _shift_jis(data) if eci == 20 else _decoded(data, name)
        if text is None or not is_text(text):
            return _binary(data, f"ECI {eci}: not text in {name}", SYMBOL)
        return Read(text, data, f"ECI {name}", f"ECI {eci}", SYMBOL)
    if data.isascii():
        text = data.decode("ascii")
        return Read(text, data, "ASCII", "no ECI: ASCII") if is_text(text) else _binary(
            data, "no ECI: ASCII with control characters")
    if (text := _decoded(data, "utf-8")) is not None and is_text(text):
        return Read(text, data, "UTF-8", "no ECI: valid UTF-8")
    if (text := _shift_jis(data)) is not None and _kana_or_kanji(data):
        return Read(text, data, "Shift_JIS", "no ECI: valid Shift_JIS with kana/kanji")
    text = data.decode("latin-1")
    if is_text(text):
        return Read(text, data, "ISO-8859-1", "no ECI: byte mode default ISO-8859-1")
    return _binary(data, "no ECI: not text in ASCII, UTF-8, Shift_JIS or ISO-8859-1")


def eci_segments(protocol: bytes) -> list[tuple[int | None, bytes]] | None:
    """The ECI segments of zxing-cpp's ``HexECI`` text (ISO/IEC 15424, as bytes): ``]Q2`` (``]Q4``, ``]Q6``), then
    data where ``\\NNNNNN`` designates an ECI and ``\\\\`` is a backslash. None without ECI (``]Q1``, ...)."""
    if protocol[:2] != b"]Q" or protocol[2:3] not in (b"2", b"4", b"6"):
        return None
    segments, eci, chunk = [], None, bytearray()
    for token in re.finditer(rb"\\(\\|\d{6})|.", protocol[3:], re.DOTALL):  # an escaped backslash, an ECI, a byte
        if token[1] in (None, b"\\"):
            chunk += token[1] or token[0]
            continue
        if chunk:
            segments.append((eci, bytes(chunk)))
        eci, chunk = int(token[1]), bytearray()
    if chunk or not segments:
        segments.append((eci, bytes(chunk)))
    return segments


def segments_read(data: bytes, segments: list[tuple[int | None, bytes]]) -> Read:
    """``data`` (all the payload's bytes) read segment by segment, each in its ECI's charset."""
    if len(segments) == 1:
        return payload_read(data, segments[0][0])
    reads = [payload_read(chunk, eci) for eci, chunk in segments]
    rule = "; ".join(read.rule for read in reads)
    if any(read.binary for read in reads):
        return _binary(data, rule, SYMBOL)
    return Read("".join(read.text for read in reads), data, " + ".join(read.charset for read in reads), rule, SYMBOL)


def reencoded_read(data: bytes) -> Read:
    """What OpenCV's bytes of a byte-mode payload without ECI say: the raw bytes, unless they read as characters
    below U+0100 whose ISO-8859-1 bytes are not valid UTF-8 (then either may be raw)."""
    text = _decoded(data, "utf-8")
    # Not UTF-8, characters beyond ISO-8859-1, or ISO-8859-1 bytes OpenCV would have returned as they are: raw.
    if text is None or max(text, default="\0") > "\xff" or _decoded(text.encode("latin-1"), "utf-8") is not None:
        return payload_read(data)
    as_latin = payload_read(text.encode("latin-1"))  # the policy on the raw bytes, were they ISO-8859-1's
    if as_latin.charset == "ISO-8859-1":  # ... and on them as UTF-8: the same text
        return Read(text, data, "UTF-8 or ISO-8859-1",
                    "no ECI: valid UTF-8 or byte mode default ISO-8859-1 (same text)", REENCODED)
    return replace(as_latin, rule=as_latin.rule + " (OpenCV's bytes read as ISO-8859-1)", evidence=REENCODED)


@dataclass(frozen=True)
class Payload:
    """One symbol's payload: the chosen ``text``, its ``readers``, the ``rule`` and ``read`` behind it, the others."""

    text: str
    readers: tuple[str, ...]
    rule: str
    read: Read
    overruled: tuple[str, ...] = ()


def _symbol_key(read: Read) -> bytes:
    """The bytes OpenCV returns for ``read``'s payload without ECI: equal for one symbol whichever decoder read it."""
    return read.data if _decoded(read.data, "utf-8") is not None else read.data.decode("latin-1").encode("utf-8")


def one_payload_per_symbol(results: Iterable) -> list[Payload]:
    """The payloads in ``results`` (``decode.DecodeResult`` of several decoders on one image): reads of the same text
    or bytes are one; where texts differ, the best ``EVIDENCE`` (then the earlier decoder) gives the text."""
    groups: list[list[tuple[int, str, Read]]] = []  # (order read, decoder, read), each group in order
    entries = [(result.decoder, read) for result in results for read in result.reads]
    for order, (decoder, read) in enumerate(entries):  # a read that links groups joins them: one symbol
        key = _symbol_key(read)
        linked = [g for g in groups if any(r.text == read.text or _symbol_key(r) == key for *_, r in g)]
        groups = [g for g in groups if g not in linked] + [sorted(sum(linked, [])) + [(order, decoder, read)]]
    payloads = []
    for group in sorted(groups, key=lambda g: g[0][0]):
        _, decoder, best = min(group, key=lambda entry: (EVIDENCE.index(entry[2].evidence), entry[0]))
        readers = tuple(dict.fromkeys(d for _, d, _ in group))
        others = tuple(dict.fromkeys(r.text for *_, r in group if r.text != best.text))
        losers = ", ".join(dict.fromkeys(d for _, d, r in group if r.text != best.text))
        why = {SYMBOL: "it saw the ECI or Kanji mode", RAW: "it had the raw bytes", REENCODED: "it read first"}
        rule = f"{best.rule}; {decoder}'s text over {losers}'s: {why[best.evidence]}" if others else best.rule
        payloads.append(Payload(best.text, readers, rule, best, others))
    return payloads
