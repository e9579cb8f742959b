"""Number the correlation tokens of a run in memory bounded by a part's size, not the run's.

``analysis.accounting.token_codes`` numbers every token of the requests and the ledger once, so the accounting
join, the cost section and the per-number figures work on integers. Numbering needs a hash table of every distinct
token and, done in one go, a contiguous copy of every token's text: at 5 million requests and 5 million ledger rows
that is about 0.9 GB on top of the frames for a moment, at 50 million about 9 GB.

Here the tokens are split into parts by a hash of their own text, so every occurrence of one token, on either
side, lands in the same part; each part is dictionary-encoded on its own (pyarrow, no Python string ever made) and
its numbers are offset by the distinct tokens of the parts before it. The numbering is therefore a renumbering of
the one-pass numbering: the same rows share a number exactly when they share a token, and the distinct tokens are
the same, only listed part by part. Every consumer uses the numbers as identities (joins, counts, look-ups by text),
none relies on their order, so the figures are the same whatever the number of parts (tests/analysis/
test_token_parts.py checks this on generated tokens, with duplicated, missing, empty and non-ASCII ones).

The part of a token is a hash of its length and its last ``TAIL_BYTES`` bytes, read straight from the arrow
string array's offsets and data buffers with numpy: tokens end in their distinguishing part (a counter, a random
suffix), so the parts come out even; were they not, a part would only be bigger, never wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Tokens' text (both sides) up to which a run is numbered in one pass, the fastest way: about 10 million tokens of
# ~25 bytes, so a 5-million-request run takes the one pass (in parts it took 2.7-2.9 s instead of 2.0-2.2 s).
ONE_PASS_TEXT_BYTES = 256 * 2**20
# Past it, the text one part may hold: a part's peak is a few times its text (a copy, 32-bit offsets, pyarrow's hash
# table), so small parts keep the numbering's peak a small share of the records' size (at 10M requests: 2 parts of
# ~200 MB took +1.0 GB for a moment).
PART_TEXT_BYTES = 64 * 2**20
TAIL_BYTES = 6
_SLICE_ROWS = 1 << 20  # rows hashed at a time: the hash's temporaries stay a few tens of MB
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def text_bytes(array: pa.Array) -> int:
    """Bytes of text a (large) string array spans: its last offset less its first."""
    if len(array) == 0:
        return 0
    width = "int64" if pa.types.is_large_string(array.type) else "int32"
    offsets = np.frombuffer(array.buffers()[1], dtype=width)
    return int(offsets[array.offset + len(array)]) - int(offsets[array.offset])


def chunks_of(column: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(column.chunks) if isinstance(column, pa.ChunkedArray) else [column]


def number_tokens(
    sides: list[pa.Array | pa.ChunkedArray], *, parts: int | None = None
) -> tuple[list[np.ndarray], pd.Index]:
    """Each side's token number per row (int64, -1 for a null) and the distinct tokens (``names[number]`` is the
    row's token). ``sides``: string or large_string arrays. ``parts``: how many parts to number in (default: one up
    to ``ONE_PASS_TEXT_BYTES`` of text, else as many as keep each part under ``PART_TEXT_BYTES``)."""
    chunked = [[chunk.cast(pa.large_string()) for chunk in chunks_of(side)] for side in sides]
    if parts is None:
        total = sum(text_bytes(chunk) for side in chunked for chunk in side)
        parts = 1 if total <= ONE_PASS_TEXT_BYTES else math.ceil(total / PART_TEXT_BYTES)
    if parts <= 1:
        return _one_pass(chunked)
    return _in_parts(chunked, parts)


def _one_pass(chunked: list[list[pa.Array]]) -> tuple[list[np.ndarray], pd.Index]:
    """One dictionary-encoding of both sides joined into one contiguous array: dictionary-encoding a many-chunk
    column builds a dictionary per chunk, which grows with the run (3.8 s instead of about 1 s at 5 million rows)."""
    lengths = [sum(len(chunk) for chunk in side) for side in chunked]
    flat = [chunk for side in chunked for chunk in side]
    codes, dictionary = _encode(flat)
    names = pd.Index(pd.array(dictionary, dtype="str"))
    bounds = np.cumsum([0, *lengths])
    return [codes[bounds[i] : bounds[i + 1]] for i in range(len(lengths))], names


def _encode(chunks: list[pa.Array]) -> tuple[np.ndarray, pa.Array]:
    """The chunks' values joined and dictionary-encoded: each value's number (-1 for null) and the dictionary
    (large_string). The list is emptied once joined, so filtered copies are freed before the hashing. Encoded with
    32-bit offsets when the text fits in them: pyarrow's hash table for ``string`` is about twice as fast as for
    ``large_string`` (1.8 s instead of 3.5 s at 10 million tokens)."""
    joined = pa.concat_arrays(chunks) if chunks else pa.array([], pa.large_string())
    chunks.clear()
    if text_bytes(joined) < 2**31 - 1:
        joined = joined.cast(pa.string())
    encoded = pc.dictionary_encode(joined)
    del joined
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype="int64")
    return codes, encoded.dictionary.cast(pa.large_string())


def part_of(chunk: pa.Array, parts: int) -> np.ndarray:
    """The part (0 .. parts - 1) of each value of a large_string array: a hash of its length and last bytes. A null
    value's part is that of an empty text (it gets no number anyway)."""
    found = np.empty(len(chunk), dtype="int32")
    for start in range(0, len(chunk), _SLICE_ROWS):
        piece = chunk.slice(start, _SLICE_ROWS)
        found[start : start + len(piece)] = _hash_part(piece, parts)
    return found


def _hash_part(piece: pa.Array, parts: int) -> np.ndarray:
    buffers = piece.buffers()
    offsets = np.frombuffer(buffers[1], dtype="int64")[piece.offset : piece.offset + len(piece) + 1]
    data = np.frombuffer(buffers[2], dtype="uint8") if buffers[2] is not None else np.zeros(0, dtype="uint8")
    starts, ends = offsets[:-1], offsets[1:]
    key = (ends - starts).astype("uint64")
    if data.size:
        for back in range(1, TAIL_BYTES + 1):
            at = ends - back
            byte = np.where(at >= starts, data[np.clip(at, 0, data.size - 1)], 0).astype("uint64")
            key = key * np.uint64(257) + byte  # wraps modulo 2**64, as a hash may
    mixed = (key * _GOLDEN) >> np.uint64(33)
    found: np.ndarray = (mixed % np.uint64(parts)).astype("int32")
    return found


def _in_parts(chunked: list[list[pa.Array]], parts: int) -> tuple[list[np.ndarray], pd.Index]:
    """Each part's tokens (from every chunk of both sides) dictionary-encoded on their own, numbered after the
    distinct tokens of the parts before. At any time only one part's text is copied and hashed."""
    codes = [np.full(sum(len(chunk) for chunk in side), -1, dtype="int64") for side in chunked]
    part_ids = [[part_of(chunk, parts) for chunk in side] for side in chunked]
    names: list[pa.Array] = []
    offset = 0
    for part in range(parts):
        pieces: list[pa.Array] = []
        places: list[tuple[int, np.ndarray]] = []  # (side, rows of that side) in the order of ``pieces``
        for side, (side_chunks, side_ids) in enumerate(zip(chunked, part_ids, strict=True)):
            start = 0
            for chunk, ids in zip(side_chunks, side_ids, strict=True):
                mask = ids == part
                if mask.any():
                    pieces.append(chunk.filter(pa.array(mask)))
                    places.append((side, start + np.flatnonzero(mask)))
                start += len(chunk)
        if not pieces:
            continue
        local, dictionary = _encode(pieces)
        at = 0
        for side, rows in places:
            got = local[at : at + rows.size]
            codes[side][rows] = np.where(got >= 0, got + offset, -1)
            at += rows.size
        names.append(dictionary)
        offset += len(dictionary)
    every = pa.concat_arrays(names) if names else pa.array([], pa.large_string())
    return codes, pd.Index(pd.array(every, dtype="str"))
