"""Payload text (issue 20): one code, one payload, and the right one, whichever decoder reads it.

The misread suite: codes segno writes in every way a payload's bytes reach a QR code (ISO-8859-1 byte mode
without ECI, UTF-8 with and without ECI, Shift_JIS in byte and Kanji mode, ECIs, binary, ASCII), each read by
zxing, OpenCV and the cascade: exactly one payload, its right text. Then the bytes -> text rule on real-world
byte strings, and ``one_payload_per_symbol`` merging the reads of one symbol whose texts differ."""

import random

import numpy as np
import pytest
import segno

from qrsr_helpers.decode import DecodeResult, decode
from qrsr_helpers.payload import (
    BINARY,
    RAW,
    REENCODED,
    SYMBOL,
    Read,
    eci_segments,
    one_payload_per_symbol,
    payload_read,
    reencoded_read,
    segments_read,
)


def render(code: segno.QRCode, px: int = 6) -> np.ndarray:
    """``code`` as a gray image, ``px`` per module, with its 4-module quiet zone."""
    dark = np.pad(np.asarray(code.matrix, np.uint8), 4)
    return np.kron((1 - dark) * 255, np.ones((px, px), np.uint8)).astype(np.uint8)


# (id, content, segno options, mode segno must choose, the text, zxing's charset)
SUITE = [
    ("latin1-pound", "Preis: 5 £", {}, "byte", "Preis: 5 £", "ISO-8859-1"),  # zxing 3.1.1 alone: "Preis: 5 ｣"
    ("latin1-umlauts", "ÄÖÜ", {}, "byte", "ÄÖÜ", "ISO-8859-1"),  # zxing alone: "ﾄﾖﾜ"
    ("latin1-valid-sjis", "Détail", {}, "byte", "Détail", "ISO-8859-1"),  # 44 E9 74 ..: valid Shift_JIS too
    ("utf8", "Grüße, 東京", {}, "byte", "Grüße, 東京", "UTF-8"),
    ("utf8-latin-range", "Grüße", {"encoding": "utf-8"}, "byte", "Grüße", "UTF-8"),  # OpenCV: UTF-8 or Latin-1?
    ("utf8-eci", "Grüße, 東京", {"encoding": "utf-8", "eci": True}, "byte", "Grüße, 東京", "ECI UTF-8"),
    ("sjis-byte", "Google モバイル", {"encoding": "shift_jis"}, "byte", "Google モバイル", "Shift_JIS"),
    ("sjis-eci", "Google モバイル", {"encoding": "shift_jis", "eci": True, "mode": "byte"}, "byte",
     "Google モバイル", "ECI Shift_JIS"),
    ("kanji-mode", "テスト", {"mode": "kanji"}, "kanji", "テスト", "Shift_JIS"),
    ("kanji-mode-cp932", "①～テスト", {"encoding": "cp932"}, "kanji", "①～テスト", "Shift_JIS"),
    ("latin1-eci", "Preis: 5 £", {"encoding": "latin-1", "eci": True}, "byte", "Preis: 5 £", "ECI ISO-8859-1"),
    ("greek-eci", "Ελλάδα", {"encoding": "iso-8859-7", "eci": True}, "byte", "Ελλάδα", "ECI ISO-8859-7"),
    ("cp1252-eci", "tel: 5 €", {"encoding": "cp1252", "eci": True}, "byte", "tel: 5 €", "ECI windows-1252"),
    ("binary", b"\x00\x01\xfe\xffAB", {}, "byte", "hex:0001feff4142", BINARY),
    ("ascii", "https://example.org/?q=1", {}, "byte", "https://example.org/?q=1", "ASCII"),
    ("ascii-alphanumeric", "HELLO 123", {}, "alphanumeric", "HELLO 123", "ASCII"),
]


@pytest.fixture(scope="module")
def suite_images():
    images = {}
    for name, content, options, mode, _, _ in SUITE:
        code = segno.make_qr(content, **options)
        assert code.mode == mode, name  # the case is the mode it says
        images[name] = render(code)
    return images


@pytest.mark.parametrize("decoder", ["zxing", "opencv", "cascade"])
@pytest.mark.parametrize("name, text, charset", [(case[0], case[4], case[5]) for case in SUITE],
                         ids=[case[0] for case in SUITE])
def test_every_decoder_reads_one_payload_and_the_right_one(suite_images, decoder, name, text, charset):
    result = decode(suite_images[name], decoder)
    assert result.texts == (text,)
    (read,) = result.reads
    assert read.binary == (charset == BINARY)
    if decoder != "opencv":  # OpenCV's bytes are not always the raw ones: its charset may say "UTF-8 or ISO-8859-1"
        assert read.charset == charset
    if charset.startswith("ECI"):
        assert read.evidence == SYMBOL and "ECI " in read.rule  # OpenCV: "Kanji mode or ECI 20"


def test_the_misread_suite_gives_one_payload_per_symbol(suite_images):
    for name, *_, text, charset in SUITE:
        results = [decode(suite_images[name], decoder) for decoder in ("zxing", "opencv", "cascade")]
        (payload,) = one_payload_per_symbol(results)
        assert (payload.text, payload.readers, payload.overruled) == (text, ("zxing", "opencv", "cascade"), ())
        assert payload.rule == payload.read.rule and payload.read.binary == (charset == BINARY)


def test_opencv_reports_each_codes_own_eci_however_many_it_read_before(suite_images):
    """An OpenCV detector's ``getEncoding`` keeps the first code's ECI: after an ECI 3 code, a code without
    ECI would read as ECI 3 and a Kanji-mode one too. Each read asks a fresh detector."""
    for name in ("latin1-eci", "greek-eci", "latin1-umlauts", "kanji-mode", "utf8-eci", "sjis-byte", "latin1-eci"):
        expected = next(case[4] for case in SUITE if case[0] == name)
        assert decode(suite_images[name], "opencv").texts == (expected,), name


def test_a_binary_payload_is_labelled_and_matches_no_text(suite_images):
    result = decode(suite_images["binary"], "zxing")
    assert result.ok and result.reads[0].charset == BINARY and result.reads[0].data == b"\x00\x01\xfe\xffAB"
    assert not result.matches("hex:0001feff4142")  # the label is not the payload
    assert decode(suite_images["ascii"], "zxing").matches("https://example.org/?q=1")


def test_two_codes_in_one_image_are_two_payloads():
    left, right = render(segno.make_qr("Détail")), render(segno.make_qr("plain text"))
    image = np.hstack([left, np.full((left.shape[0], 60), 255, np.uint8), right])
    results = [decode(image, "zxing"), decode(left, "opencv")]  # OpenCV finds neither of two: give it one
    assert sorted(results[0].texts) == ["Détail", "plain text"] and results[1].texts == ("Détail",)
    payloads = one_payload_per_symbol(results)
    assert {p.text: p.readers for p in payloads} == {"Détail": ("zxing", "opencv"), "plain text": ("zxing",)}


# --- one payload per symbol where the decoders' texts differ ---------------------------------------------


def test_undecidable_binary_bytes_from_opencv_are_merged_under_zxings_raw_bytes():
    """Binary bytes that are valid UTF-8: OpenCV returns them as they are, as it would the UTF-8 re-encoding of
    00 E9 01; it takes them for the latter (binary is rarely valid UTF-8), zxing sees the raw bytes."""
    image = render(segno.make_qr(b"\x00\xc3\xa9\x01"))
    results = [decode(image, "opencv"), decode(image, "zxing")]
    assert results[0].texts == ("hex:00e901",) and results[0].reads[0].evidence == REENCODED
    assert results[1].texts == ("hex:00c3a901",) and results[1].reads[0].evidence == RAW
    (payload,) = one_payload_per_symbol(results)
    assert (payload.text, payload.readers, payload.overruled) == ("hex:00c3a901", ("opencv", "zxing"), ("hex:00e901",))
    assert payload.rule.startswith("no ECI: not text")
    assert payload.rule.endswith("; zxing's text over opencv's: it had the raw bytes")


def test_the_decoder_that_saw_the_eci_chooses_the_text():
    greek = "Ελλάδα".encode("iso-8859-7")
    zxing = DecodeResult("zxing", (Read("Ελλάδα", greek, "ECI ISO-8859-7", "ECI 9", SYMBOL),))
    blind = payload_read(greek)  # a decoder that missed the ECI: the no-ECI rule
    assert blind.text == "ÅëëÜäá" and blind.charset == "ISO-8859-1"
    opencv = DecodeResult("opencv", (as_opencv_reencoded(blind),))
    for results in ([zxing, opencv], [opencv, zxing]):
        (payload,) = one_payload_per_symbol(results)
        assert (payload.text, payload.overruled, payload.read.charset) == ("Ελλάδα", ("ÅëëÜäá",), "ECI ISO-8859-7")
        assert payload.rule == "ECI 9; zxing's text over opencv's: it saw the ECI or Kanji mode"


def test_reads_of_the_same_bytes_re_encoded_by_opencv_are_one_symbol():
    """zxing's raw ISO-8859-1 bytes and OpenCV's UTF-8 re-encoding of them are the same symbol."""
    raw = "Tür".encode("latin-1")
    zxing = DecodeResult("zxing", (Read("T\xfcr", raw, "ISO-8859-1", "no ECI: byte mode default ISO-8859-1"),))
    opencv = DecodeResult("opencv", (Read("Tyr?", "Tür".encode(), "UTF-8", "a rule that went wrong", REENCODED),))
    (payload,) = one_payload_per_symbol([opencv, zxing])
    assert payload.text == "Tür" and payload.readers == ("opencv", "zxing") and payload.overruled == ("Tyr?",)
    assert len(one_payload_per_symbol([zxing, DecodeResult("opencv", (payload_read(b"other"),))])) == 2


def as_opencv_reencoded(read: Read) -> Read:
    data = read.text.encode("utf-8")  # what OpenCV returns for ISO-8859-1 bytes without ECI
    return Read(read.text, data, "UTF-8 or ISO-8859-1", read.rule, REENCODED)


# --- the bytes -> text rule on real-world byte strings ----------------------------------------------------

JAPANESE_VCARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:山田;太郎\r\nFN:山田 太郎\r\nORG:株式会社サンプル\r\n"
                  "TEL:03-1234-5678\r\nEND:VCARD")
DOCOMO_MECARD = "MECARD:N:山田,太郎;SOUND:ﾔﾏﾀﾞ,ﾀﾛｳ;TEL:09012345678;EMAIL:taro@example.jp;;"  # readings: half-width
LATIN1_VCARD = "BEGIN:VCARD\nN:Müller;Jürgen\nADR:;;Königstraße 5;München;;80331;Deutschland\nEND:VCARD"


@pytest.mark.parametrize("data, text, charset", [
    (JAPANESE_VCARD.encode("shift_jis"), JAPANESE_VCARD, "Shift_JIS"),
    (DOCOMO_MECARD.encode("shift_jis"), DOCOMO_MECARD, "Shift_JIS"),  # half-width katakana in runs: Japanese
    ("[外側QRコード]\r\n*ﾀﾞﾌﾞﾙQR*\r\nhttp://d-qr.net/ex/".encode("shift_jis"),
     "[外側QRコード]\r\n*ﾀﾞﾌﾞﾙQR*\r\nhttp://d-qr.net/ex/", "Shift_JIS"),
    ("石積籍績脊責赤跡蹟碩切拙接摂折設".encode("shift_jis"), "石積籍績脊責赤跡蹟碩切拙接摂折設", "Shift_JIS"),
    ("①番線".encode("cp932"), "①番線", "Shift_JIS"),  # Windows' NEC extension: cp932
    ("https://www.müller.de/straße?größe=42".encode(), "https://www.müller.de/straße?größe=42", "UTF-8"),
    ("WIFI:S:Café Zürich;T:WPA;P:geheim;;".encode(), "WIFI:S:Café Zürich;T:WPA;P:geheim;;", "UTF-8"),
    ("Britain’s longest funicular 👨‍👩‍👧".encode(), "Britain’s longest funicular 👨‍👩‍👧", "UTF-8"),  # ZWJ: text
    (LATIN1_VCARD.encode("latin-1"), LATIN1_VCARD, "ISO-8859-1"),  # LF is text; valid Shift_JIS? no: Latin-1
    ("Détail: 5 £, ÄÖÜ".encode("latin-1"), "Détail: 5 £, ÄÖÜ", "ISO-8859-1"),
    ("Prix\xa0: 12,50\xa0€".encode(), "Prix\xa0: 12,50\xa0€", "UTF-8"),  # no-break space is text
    (b"0104012345678901\x1d10ABC123\x1d17261231", "0104012345678901\x1d10ABC123\x1d17261231", "ASCII"),  # GS1
    (b"Line 1\r\nLine 2\tTab", "Line 1\r\nLine 2\tTab", "ASCII"),
])
def test_text_payloads_read_in_their_charset(data, text, charset):
    read = payload_read(data)
    assert (read.text, read.charset, read.data) == (text, charset, data)
    assert read.rule.startswith("no ECI: ") and read.evidence == RAW


@pytest.mark.parametrize("data", [
    random.Random(seed).randbytes(64) for seed in range(20)  # a random 64-byte blob is ISO-8859-1 text once in ~1e8
] + [
    bytes.fromhex("1f8b0800000000000003cb48cdc9c95728cf2fca49010085114a0d0b000000"),  # gzip of "hello world"
    bytes.fromhex("89504e470d0a1a0a0000000d49484452"),  # a PNG header
    b"\x00\x01\xfe",
    b"abc\x00def",  # ASCII with a NUL
    b"\x83e a\xc4 b",  # valid Shift_JIS, a C1 lead, but a lone half-width katakana: not Japanese, not Latin-1 text
    b"\xc2\x85next line",  # valid UTF-8 of a C1 control
], ids=lambda data: data[:8].hex())
def test_binary_payloads_are_shown_as_such(data):
    read = payload_read(data)
    assert (read.text, read.charset) == ("hex:" + data.hex(), BINARY)


def test_eci_decides_the_charset():
    assert payload_read("Ελλάδα".encode("iso-8859-7"), 9).text == "Ελλάδα"
    assert payload_read("Ελλάδα".encode("iso-8859-7")).text == "ÅëëÜäá"  # the same bytes without ECI
    read = payload_read("テスト".encode("shift_jis"), 20)
    assert (read.text, read.charset, read.rule, read.evidence) == ("テスト", "ECI Shift_JIS", "ECI 20", SYMBOL)
    assert payload_read("Détail".encode("latin-1"), 26).charset == BINARY  # not UTF-8, whatever ECI 26 says
    assert payload_read(b"ABC", 899).charset == BINARY and payload_read(b"ABC", 14).charset == BINARY
    assert payload_read("日本".encode("utf-16-be"), 25).text == "日本"


def test_eci_protocol_segments():
    assert eci_segments(b"]Q1abc\\000026") is None  # no ECI: the backslash is data
    assert eci_segments(b"]Q2\\000026a\\\\b") == [(26, b"a\\b")]
    protocol = b"]Q2\\000003Caf\xe9 \\000026\xe6\x9d\xb1\xe4\xba\xac"
    segments = eci_segments(protocol)
    assert segments == [(3, b"Caf\xe9 "), (26, "東京".encode())]
    read = segments_read(b"".join(chunk for _, chunk in segments), segments)
    assert (read.text, read.charset, read.rule) == ("Café 東京", "ECI ISO-8859-1 + ECI UTF-8", "ECI 3; ECI 26")
    assert (read.data, read.evidence) == (b"".join(chunk for _, chunk in segments), SYMBOL)
    broken = [(3, b"Caf\xe9 "), (26, b"\xe6\x9d")]  # the second segment is not UTF-8: the whole payload is binary
    read = segments_read(b"".join(chunk for _, chunk in broken), broken)
    assert (read.charset, read.data, read.evidence) == (BINARY, b"Caf\xe9 \xe6\x9d", SYMBOL)
    assert read.rule == "ECI 3; ECI 26: not text in UTF-8" and read.text == "hex:" + read.data.hex()


def test_payload_read_follows_the_eci_it_is_given():
    assert payload_read("é".encode("latin-1")).text == "é"  # no ECI: ISO-8859-1
    assert payload_read("é".encode("latin-1"), 26).text.startswith("hex:")  # ECI 26 says UTF-8: not text
    assert payload_read("é".encode(), 26).text == "é"


def test_a_read_that_links_two_payloads_makes_them_one_symbol():
    """Three reads: zxing's and OpenCV's share nothing, the cascade's has zxing's text and OpenCV's bytes: all
    three are one symbol. Where reads with the same evidence disagree, the one read first gives the text."""
    first, second = Read("x", b"\x01", "ASCII", "r"), Read("y", b"\x02", "ASCII", "r")
    link = Read("x", b"\x02", "ASCII", "r")
    merged = one_payload_per_symbol([DecodeResult("zxing", (first,)), DecodeResult("opencv", (second,)),
                                     DecodeResult("cascade", (link,))])
    assert len(merged) == 1 and merged[0].readers == ("zxing", "opencv", "cascade")
    assert merged[0].text == "x" and merged[0].overruled == ("y",)
    tie = one_payload_per_symbol([DecodeResult("zxing", (Read("a", b"k", "ASCII", "r"),)),
                                  DecodeResult("cascade", (Read("b", b"k", "ASCII", "r"),))])
    assert [(p.text, p.readers) for p in tie] == [("a", ("zxing", "cascade"))]


@pytest.mark.parametrize(("data", "charset", "text"), [
    (b"\x82\xa0", "Shift_JIS", "あ"),  # one double-byte character, from the first byte
    (bytes([0x9F, 0x40]), "Shift_JIS", "檗"),  # the last lead byte of the kana/level-1 range
    ("あｱ".encode("shift_jis"), "Shift_JIS", "あｱ"),  # half-width katakana beside a Japanese character
    ("ｱあ".encode("shift_jis"), "Shift_JIS", "ｱあ"),
    (b"\x82\xa0A\xb1", BINARY, "hex:82a041b1"),  # a lone half-width katakana at the end: not Shift_JIS, and C1
])
def test_shift_jis_at_the_edges_of_its_rule(data, charset, text):
    read = payload_read(data)
    assert (read.charset, read.text) == (charset, text)


def test_eci_reads_that_are_not_text_say_why():
    assert [(r.rule, r.evidence) for r in (payload_read(b"ABC", 899), payload_read(b"ABC", 14),
                                           payload_read(b"\xff", 26))] == [
        ("ECI 899: binary", SYMBOL), ("ECI 14: unknown charset", SYMBOL), ("ECI 26: not text in UTF-8", SYMBOL)]


def test_opencvs_bytes_that_opencv_would_never_write_are_read_as_raw():
    assert reencoded_read(b"").text == ""
    raw = reencoded_read(b"\xff\xfe")  # not UTF-8, so not OpenCV's re-encoding: the raw bytes, read as such
    assert (raw.text, raw.charset, raw.evidence) == ("ÿþ", "ISO-8859-1", RAW)
    assert reencoded_read("Ab€".encode()).charset == "UTF-8"  # beyond ISO-8859-1: raw UTF-8


def test_binary_payloads_are_reported_in_hex():
    assert payload_read(b"\x00\x01\xfe").text == "hex:0001fe"
    assert payload_read("Grüße".encode("latin-1")).text == "Grüße"  # not UTF-8, not Shift-JIS: QR's default charset
