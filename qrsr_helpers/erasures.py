"""Read a QR code that zxing-cpp locates but cannot correct (issue 22): at the margin most unread photos are found and
lost at the Reed-Solomon checksum (``benchmarks/results/failure_stages.md``), with too many wrong modules.

Two things a hard-decision decoder leaves on the table. The low-resolution pixels themselves: the enhanced image puts
the modules where they are, and each LR pixel is the mean of the modules under it (a camera integrates light, a
shrink averages), so the modules that explain the LR pixels best (a bounded least-squares fit started from the
enhanced image's guess) are often right where the generator guessed wrong. And certainty: a module near the threshold
is a guess; Reed-Solomon corrects ``n - k`` erased codewords but only ``(n - k) / 2`` wrong ones, so the least certain
codewords are erased first (Forney's generalized minimum distance decoding). And the blocks that do correct: their
modules become known, and the others are fitted again around them. Never a wrong payload: :data:`SLACK` check
codewords of every block stay unused, and zxing-cpp must parse the corrected bit stream.
``benchmarks/erasure_decoding.py`` measures each step on the real photos."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import reedsolo
import scipy.sparse
import segno
import zxingcpp
from segno import consts, encoder

from .decode import _side, zxing_corners, zxing_reads
from .payload import Read

SLACK = 4  # check codewords per block left unused: a wrong word slips through them with probability ~256**-SLACK
SAMPLES = 5  # px per module of a rectified grid; a module's value is the mean of its inner 3 x 3
FIT_STEPS = 500  # projected-gradient (FISTA) steps of the LR fit: ~10 ms for a version 3
# The LR fit's pull toward dark or light, growing to this share of its step over the steps: a module is one or the
# other, and with fewer LR pixels than modules a plain fit settles in between. On 1,350 held-out photo-like scenes
# 0.1 read 75 located codes, 0 read 65 and 0.3 read 71, none wrong (benchmarks/results/erasure_pull.md).
BINARY_PULL = 0.1
PIN_ROUNDS = 3  # refits with the corrected blocks' modules pinned (module_estimates); each costs one LR fit
_MASKS = encoder.get_data_mask_functions(False)  # segno's eight data masks (i row, j column); NumPy arrays work


def alignment_centres(version: int) -> list[tuple[int, int]]:
    """(row, column) of each alignment pattern: every pair of the standard's positions but the three under a finder."""
    centres = consts.ALIGNMENT_POS[version - 2] if version > 1 else ()
    return [(r, c) for r in centres for c in centres if not (min(r, c) == 6 and max(r, c) in (6, centres[-1]))]


@functools.cache
def function_modules(version: int) -> np.ndarray:
    """Which modules of a ``version`` symbol carry no data: finders, separators, timing, alignment patterns, format
    and version information, the dark module."""
    n = 17 + 4 * version
    used = np.zeros((n, n), bool)
    used[:9, :9] = used[:9, n - 8:] = used[n - 8:, :9] = used[6, :] = used[:, 6] = True
    for r, c in alignment_centres(version):
        used[r - 2:r + 3, c - 2:c + 3] = True
    if version >= 7:
        used[:6, n - 11:n - 8] = used[n - 11:n - 8, :6] = True
    return used


@functools.cache
def known_modules(version: int, level: str, mask: int) -> np.ndarray:
    """The darkness (1 dark) of every function module of a ``version``/``level``/``mask`` symbol (data modules: 0)."""
    symbol = segno.make("0", version=version, error=level, mask=mask, boost_error=False, micro=False)
    return np.array([list(row) for row in symbol.matrix], np.float32) * function_modules(version)


@functools.cache
def codeword_modules(version: int) -> np.ndarray:
    """(codewords, 8) module indices (row * n + column) of each codeword's bits, most significant first, in the
    standard's two-column zigzag from the bottom-right corner; the few remainder bits are left out."""
    n = 17 + 4 * version
    used = function_modules(version)
    columns = [c - (c <= 6) for c in range(n - 1, 0, -2)]  # the pair left of the timing column shifts by one
    order = [r * n + cc for i, c in enumerate(columns) for r in (range(n - 1, -1, -1) if i % 2 == 0 else range(n))
             for cc in (c, c - 1) if not used[r, cc]]
    return np.array(order[:len(order) // 8 * 8]).reshape(-1, 8)


def blocks(version: int, level: str) -> list[tuple[np.ndarray, int]]:
    """Each Reed-Solomon block's codeword positions in the interleaved stream, and its number of data codewords."""
    shape = [(g.num_total, g.num_data) for g in consts.ECC[version][consts.ERROR_MAPPING[level]]
             for _ in range(g.num_blocks)]
    data_order = [(b, i) for i in range(max(k for _, k in shape)) for b, (_, k) in enumerate(shape) if i < k]
    check_order = [(b, k + i) for i in range(shape[0][0] - shape[0][1]) for b, (_, k) in enumerate(shape)]
    where = {key: position for position, key in enumerate(data_order + check_order)}
    return [(np.array([where[b, i] for i in range(total)]), k) for b, (total, k) in enumerate(shape)]


def _terms(u, v, quadratic: bool) -> list:
    return [np.ones_like(u), u, v] + ([u * u, u * v, v * v] if quadratic else [])


def _pattern(half: int) -> np.ndarray:
    """A finder (``half`` 3) or alignment pattern (2) at SAMPLES px per module: dark 0, light 255."""
    ring = np.maximum(*np.abs(np.mgrid[-half:half + 1, -half:half + 1]))
    dark = np.isin(ring, (0, 1, 3) if half == 3 else (0, 2))
    return np.kron(np.where(dark, 0, 255), np.ones((SAMPLES, SAMPLES))).astype(np.float32)


def sampled(gray: np.ndarray, to_image, n: int, margin: int = 0) -> np.ndarray:
    """``gray`` resampled at SAMPLES px per module over modules ``-margin`` to ``n + margin``."""
    axis = (np.arange(-margin * SAMPLES, (n + margin) * SAMPLES) + 0.5) / SAMPLES
    x, y = to_image(*np.meshgrid(axis, axis))
    return cv2.remap(gray, x.astype(np.float32), y.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def module_grid(gray: np.ndarray, corners: np.ndarray, version: int, rounds: int = 2):
    """``(u, v) -> (x, y)``: module coordinates (column, row) to image coordinates. The homography of the symbol's
    four outer ``corners``, its module grid shifted by a smooth displacement (quadratic where six or more patterns
    are found, else affine) fitted to where the finder and alignment patterns are: a curved label, a lens, a corner
    off by a pixel; four corners alone drift by a module across a large version."""
    n, margin, reach = 17 + 4 * version, 3, SAMPLES + 1
    homography = cv2.getPerspectiveTransform(np.float32([[0, 0], [n, 0], [n, n], [0, n]]), np.float32(corners))
    marks = [(3.5, 3.5, 3), (n - 3.5, 3.5, 3), (3.5, n - 3.5, 3)] + [
        (c + 0.5, r + 0.5, 2) for r, c in alignment_centres(version)]
    shift = lambda u, v: (0.0, 0.0)

    def to_image(u, v):
        du, dv = shift(u, v)
        points = np.stack(np.broadcast_arrays(u + du, v + dv), -1).astype(np.float64)
        return cv2.perspectiveTransform(points.reshape(-1, 1, 2), homography).reshape(*points.shape).transpose(
            -1, *range(points.ndim - 1))

    for _ in range(rounds):
        grid, found = sampled(gray, to_image, n, margin), []
        for u, v, half in marks:
            template = _pattern(half)
            top, left = (round((c + margin - half - 0.5) * SAMPLES) - reach for c in (v, u))
            window = grid[top:top + len(template) + 2 * reach, left:left + len(template) + 2 * reach]
            _, score, _, (sx, sy) = cv2.minMaxLoc(cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED))
            if score > 0.3:  # a pattern the image still shows
                du, dv = shift(u, v)
                found.append((u, v, du + (sx - reach) / SAMPLES, dv + (sy - reach) / SAMPLES))
        if len(found) < 3:
            break
        u, v, du, dv = (np.array(found) / [n, n, 1, 1]).T
        terms = functools.partial(_terms, quadratic=len(found) >= 6)
        fit_u, fit_v = (np.linalg.lstsq(np.stack(terms(u, v), -1), d, rcond=None)[0] for d in (du, dv))
        shift = lambda u, v, fu=fit_u, fv=fit_v, terms=terms: (
            sum(c * t for c, t in zip(fu, terms(u / n, v / n))), sum(c * t for c, t in zip(fv, terms(u / n, v / n))))
    return to_image


def sampled_values(gray: np.ndarray, to_image, known: np.ndarray, used: np.ndarray) -> np.ndarray:
    """Each module's darkness in [-1, 1] (> 0 dark, 0 a guess) read off ``gray`` (the enhanced image), scaled by
    the function modules' known dark and light."""
    n = len(known)
    values = sampled(gray, to_image, n).reshape(n, SAMPLES, n, SAMPLES)[:, 1:-1, :, 1:-1].mean(axis=(1, 3))
    black, white = np.median(values[used & (known == 1)]), np.median(values[used & (known == 0)])
    return np.clip((white + black - 2 * values) / max(white - black, 1.0), -1, 1)


def fitted_values(lr: np.ndarray, to_lr, known: np.ndarray, used: np.ndarray, start: np.ndarray,
                  supersample: int = 6, quiet: int = 2) -> np.ndarray:
    """Each module's darkness in [-1, 1] that best explains the LR pixels ``lr`` as the area-weighted mean of the
    modules (and a light quiet zone ``quiet`` modules wide) under each pixel, ``to_lr`` mapping modules to LR pixels:
    a gain and offset fitted first, then the data modules by projected gradient (FISTA) in [0, 1] from ``start``
    (the enhanced image's values), pulled toward 0 or 1 (:data:`BINARY_PULL`): where the LR pixels do not decide,
    the generator's guess stays."""
    n = len(known)
    side = n + 2 * quiet
    axis = (np.arange(side * supersample) + 0.5) / supersample - quiet
    x, y = to_lr(*np.meshgrid(axis, axis))
    row, column = np.floor(y + 0.5).astype(int).ravel(), np.floor(x + 0.5).astype(int).ravel()
    module = (np.arange(side * supersample) // supersample)
    module = (module[:, None] * side + module[None, :]).ravel()
    inside = (row >= 0) & (row < lr.shape[0]) & (column >= 0) & (column < lr.shape[1])
    weights = scipy.sparse.coo_matrix((np.ones(inside.sum()), (row[inside] * lr.shape[1] + column[inside],
                                                               module[inside])), shape=(lr.size, side * side)).tocsr()
    counts = np.asarray(weights.sum(axis=1)).ravel()
    if counts.sum() == 0:  # the symbol lies outside ``lr``: nothing to fit
        return start
    pixels = np.flatnonzero(counts >= 0.7 * np.median(counts[counts > 0]))  # whole pixels only, not the rim's
    weights = scipy.sparse.diags(1 / counts[pixels]) @ weights[pixels]
    darkness = np.zeros((side, side))
    darkness[quiet:quiet + n, quiet:quiet + n] = np.where(used, known, (start + 1) / 2)
    unknown = np.zeros((side, side), bool)
    unknown[quiet:quiet + n, quiet:quiet + n] = ~used
    gain, offset = np.polyfit(weights @ darkness.ravel(), lr.ravel()[pixels].astype(np.float64), 1)
    a = weights[:, unknown.ravel()]
    target = (lr.ravel()[pixels] - offset) / min(gain, -1.0) - weights[:, ~unknown.ravel()] @ darkness[~unknown]
    at = a.T.tocsr()
    probe = np.ones(a.shape[1])
    for _ in range(20):  # power iteration: the step size 1 / ||A^T A||
        probe = at @ (a @ probe)
        lipschitz = np.linalg.norm(probe)
        probe /= lipschitz
    guess = z = darkness[unknown]
    momentum = 1.0
    for i in range(FIT_STEPS):
        pull = BINARY_PULL * lipschitz * i / FIT_STEPS * (1 - 2 * z)  # the gradient of pull * z * (1 - z)
        step = np.clip(z - (at @ (a @ z - target) + pull) / lipschitz, 0, 1)
        following = (1 + np.sqrt(1 + 4 * momentum ** 2)) / 2
        z, guess, momentum = step + (momentum - 1) / following * (step - guess), step, following
    darkness[unknown] = guess
    return 2 * darkness[quiet:quiet + n, quiet:quiet + n] - 1


@functools.cache
def _codec(check: int) -> reedsolo.RSCodec:
    return reedsolo.RSCodec(check)  # GF(256) with 0x11d, generator 2, first root 1: the QR code's


def corrected(received: bytes, reliability: np.ndarray, check: int) -> bytes | None:
    """``received`` (one block) decoded with 0, 2, 4, ... of its least reliable codewords erased, the first that
    corrects within ``check - SLACK`` (2 per wrong codeword, 1 per erased one); None if none does."""
    order = np.argsort(reliability, kind="stable").tolist()
    for erased in range(0, check - SLACK + 1, 2):
        try:
            _, word, _ = _codec(check).decode(bytearray(received), erase_pos=order[:erased])
        except reedsolo.ReedSolomonError:
            continue
        kept = set(range(len(received))) - set(order[:erased])
        wrong = sum(word[i] != received[i] for i in kept)
        if 2 * wrong + erased <= check - SLACK:
            return bytes(word)
    return None


def soft_bits(values: np.ndarray, version: int, mask: int) -> np.ndarray:
    """(codewords, 8) soft bits (> 0: a 1) of module ``values`` (n x n, > 0 dark), unmasked, in stream order."""
    n = 17 + 4 * version
    rows, columns = np.divmod(np.arange(n * n), n)
    return np.where(_MASKS[mask](rows, columns), -values.ravel(), values.ravel())[codeword_modules(version)]


def codeword_darkness(stream: np.ndarray, version: int, mask: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the codewords of ``stream`` lie and how dark they make their modules: (codewords, 8) rows, columns and
    darkness (1 dark), each bit masked as the symbol stores it; :func:`soft_bits` the other way round."""
    rows, columns = np.divmod(codeword_modules(version), 17 + 4 * version)
    return rows, columns, np.unpackbits(stream[:, None], axis=1) ^ _MASKS[mask](rows, columns)


def corrected_blocks(bits: np.ndarray, version: int, level: str) -> tuple[np.ndarray, list[bool]]:
    """The stream's codewords (data and check) from ``soft_bits``, each block :func:`corrected` where it can be, and
    which were: a codeword's certainty is its least certain bit's."""
    received, certainty = np.packbits(bits > 0, axis=1).ravel(), np.abs(bits).min(axis=1)
    stream, fixed = received.copy(), []
    for positions, k in blocks(version, level):
        word = corrected(bytes(received[positions]), certainty[positions], len(positions) - k)
        fixed.append(word is not None)
        if word is not None:
            stream[positions] = np.frombuffer(word, np.uint8)
    return stream, fixed


def corrected_stream(bits: np.ndarray, version: int, level: str) -> np.ndarray | None:
    """:func:`corrected_blocks`' stream where every block corrects, else None."""
    stream, fixed = corrected_blocks(bits, version, level)
    return stream if all(fixed) else None


def decoded(values: np.ndarray, version: int, level: str, mask: int) -> Read | None:
    """The payload of a symbol whose modules' darkness is ``values`` (n x n, > 0 dark), or None: its corrected
    codewords drawn back into a clean symbol that zxing-cpp reads, so the bit stream is parsed (every mode, ECI) and
    the payload's text chosen as for every other read (:func:`.decode.zxing_reads`)."""
    if (stream := corrected_stream(soft_bits(values, version, mask), version, level)) is None:
        return None
    rows, columns, darkness = codeword_darkness(stream, version, mask)
    matrix = known_modules(version, level, mask).astype(bool)
    matrix[rows, columns] = darkness
    remainder = ~function_modules(version)
    remainder.flat[codeword_modules(version)] = False
    matrix[remainder] = _MASKS[mask](*np.nonzero(remainder))  # remainder bits: 0, masked
    drawn = np.kron(np.pad(~matrix, 4, constant_values=True), np.ones((4, 4), np.uint8)) * np.uint8(255)
    return next(iter(zxing_reads(drawn)), None)


def zxing_format(found: zxingcpp.Barcode) -> tuple[int, str, int] | None:
    """The version, error-correction level and mask zxing-cpp read of a QR symbol it located; None where it read
    none, or took the symbol for a Micro QR or rMQR ("M2", "R17x43")."""
    extra = found.extra or {}
    if not str(extra.get("Version")).isdigit() or extra.get("ECLevel") not in ("L", "M", "Q", "H") or (
            extra.get("DataMask") not in range(8)):
        return None
    return int(extra["Version"]), extra["ECLevel"], extra["DataMask"]


def module_estimates(sr: np.ndarray, lr: np.ndarray | None, corners: np.ndarray, version: int, level: str,
                     mask: int) -> list[np.ndarray]:
    """The module values of a symbol with outer ``corners`` in the enhanced image ``sr``: read off ``sr`` on the
    refined grid, then (where ``lr``, its LR source, is given) fitted to the LR pixels from there. Where some blocks
    correct and others do not, the corrected blocks' modules are pinned and the rest fitted again, up to
    :data:`PIN_ROUNDS` times: a known module no longer blurs into its neighbours' LR pixels as a guess."""
    known, used, gray = known_modules(version, level, mask), function_modules(version), sr.astype(np.float32)
    to_sr = module_grid(gray, corners, version)
    values = [sampled_values(gray, to_sr, known, used)]
    if lr is None:
        return values
    scale = sr.shape[0] / lr.shape[0]
    fit = functools.partial(fitted_values, lr, lambda u, v: (to_sr(u, v) + 0.5) / scale - 0.5)
    values.append(fit(known, used, values[0]))
    pinned = 0
    for _ in range(PIN_ROUNDS):
        stream, fixed = corrected_blocks(soft_bits(values[-1], version, mask), version, level)
        if all(fixed) or sum(fixed) <= pinned:
            break
        pinned, known, used = sum(fixed), known.copy(), used.copy()
        rows, columns, darkness = codeword_darkness(stream, version, mask)
        for (positions, _), ok in zip(blocks(version, level), fixed):
            if ok:
                known[rows[positions], columns[positions]] = darkness[positions]
                used[rows[positions], columns[positions]] = True
        values[-1] = fit(known, used, values[-1])
    return values


def read_with_erasures(sr: np.ndarray, lr: np.ndarray | None = None, min_side: float = 0.0) -> tuple[Read, ...]:
    """The QR codes zxing-cpp locates in the enhanced image ``sr`` (8-bit gray, at least ``min_side`` px wide) and
    loses at the checksum, decoded from the modules that explain ``lr`` (its LR source, 8-bit gray) best, else
    from ``sr``'s module values, with erasures; zxing's format and version, the module grid refined here."""
    reads = []
    for found in zxingcpp.read_barcodes(sr, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True):
        if found.valid or "Checksum" not in str(found.error) or (form := zxing_format(found)) is None:
            continue  # read, lost before the checksum, or no usable format
        if _side(corners := zxing_corners(found)) < min_side:  # the ladder's plausibility rule, as decode measures
            continue
        values = module_estimates(sr, lr, corners, *form)
        if read := next(filter(None, (decoded(v, *form) for v in reversed(values))), None):
            reads.append(read)
    return tuple(reads)
