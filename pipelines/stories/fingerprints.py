"""What grouping needs to know of one article, from its text alone: pure functions.

MinHash LSH bands over word 5-shingles (reprints of wire copy), capitalised names (places,
people, bodies), the lead's names, and content-word weights for a wording cosine. Computed in
the extraction workers, so the crawl's process only looks things up. Text is matched in normal
form (`pipelines.core.text.clean_text`): a soft hyphen does not split a word.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines.core.text import clean_text

NUM_PERM = 96
BANDS, ROWS = 32, 3  # candidates from Jaccard ~0.3 up (0.5: 99%, 0.4: 88%, 0.1: 3%)
SHINGLE = 5  # words per shingle
MAX_KEYS = 60
_DAY = 86_400

# "ISLAMABAD, Nov 26 (APP):", "BEIJING, Nov. 26 (Xinhua) --", "KARACHI:", "Lahore, November 26:"
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Za-z .'-]{1,40}?,?\s*"
    r"(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}(?:,\s*\d{4})?\s*)?"
    r"(?:\((?:APP|Xinhua|Reuters|AFP|AP|PPI|NNI|INP|Online|IANS)\)\s*)?[:\u2013\u2014-]+\s*"
)
_AGENCY = re.compile(r"\((?:APP|Xinhua|Reuters|AFP|AP|PPI|NNI|INP|Online|IANS)\)|--\s*Xinhua\b")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*[A-Za-z0-9]\b")

_STOPWORDS = """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself said says say told according per mr ms mrs dr
    new one two three four five six seven eight nine ten first second last year years day days week
    today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december jan feb mar apr jun jul aug
    sep sept oct nov dec however meanwhile while earlier later since"""
STOPWORDS = frozenset(_STOPWORDS.split())


@dataclass(frozen=True)
class Features:
    """What clustering needs of one article, computed from its text alone."""

    shingles: frozenset[int]
    bands: tuple[int, ...]  # LSH band keys
    keys: dict[int, str]  # hashed name -> the name, lower-cased
    lead: frozenset[int]  # the names of the title and the first paragraph
    words: dict[str, float]  # content-word weights (log tf), for the wording cosine
    headline: frozenset[str]  # the title's content words, outlet name and section left out
    numbers: frozenset[int]  # the numbers the title states ("nine killed", "12 samples")
    lead_words: dict[str, float]  # content-word weights of the title and the first paragraph


def normalize(text: str) -> str:
    """Text as wire copies share it: dateline, agency tags, case and spacing removed."""
    text = _DATELINE.sub("", text, count=1)
    text = _AGENCY.sub(" ", text)
    return " ".join(_WORD.findall(text.lower()))


def _hash64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def shingles(normalized: str) -> frozenset[int]:
    """Hashes of every run of SHINGLE words. CRC-32 is plenty for sets of a few hundred
    shingles (MinHash reads 32 bits anyway) and several times cheaper than blake2b."""
    data = normalized.encode()
    words = data.split(b" ")
    if len(words) < SHINGLE:
        return frozenset([zlib.crc32(data)]) if normalized else frozenset()
    # The runs are slices of the text itself (words are single-spaced): no joining per shingle.
    starts = [0]
    for word in words:
        starts.append(starts[-1] + len(word) + 1)
    view, crc32 = memoryview(data), zlib.crc32
    runs = range(len(words) - SHINGLE + 1)
    return frozenset(crc32(view[starts[i] : starts[i + SHINGLE] - 1]) for i in runs)


# MinHash as datasketch 2.x's "affine32" scheme with seed 1 computes it (the scheme this code
# used through datasketch, so band keys stored by earlier releases still find their copies):
# each shingle hash is mixed once by MurmurHash3's 32-bit finalizer, then each permutation maps
# it to a * h + b (mod 2**32, ``a`` odd) and keeps the least. Done here in a few numpy lines:
# datasketch's package brought scipy along (0.4 s of every worker's start) for these.
_FMIX = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
_PERMUTATIONS: list[tuple[Any, Any]] = []  # (a, b), drawn once per process


def _bands(shingle_set: frozenset[int]) -> tuple[int, ...]:
    if not shingle_set:
        return ()
    import numpy as np  # imported here: a run with nothing new never needs it

    if not _PERMUTATIONS:
        draw = np.random.RandomState(1)  # a legacy generator: the same draws in every numpy
        a = draw.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        _PERMUTATIONS.append((a, draw.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)))
    a, b = _PERMUTATIONS[0]
    shift1, multiply1, shift2, multiply2, shift3 = _FMIX
    h = np.fromiter(shingle_set, dtype=np.uint32, count=len(shingle_set))
    h ^= h >> shift1
    h *= np.uint32(multiply1)  # uint32 arithmetic wraps: modulo 2**32, as the scheme means
    h ^= h >> shift2
    h *= np.uint32(multiply2)
    h ^= h >> shift3
    signature = (h[:, None] * a + b).min(axis=0).astype(np.uint64).tobytes()
    size = ROWS * 8
    return tuple(_hash64(bytes([band]) + signature[band * size : (band + 1) * size]) for band in range(BANDS))


def names(text: str) -> dict[int, str]:
    """Capitalised words (places, people, bodies...) as hashed keys, stopwords left out. A
    sentence's first word counts only when the text also capitalises it elsewhere or it
    starts a run of capitalised words ("Counter Terrorism Department"). Headlines are left
    out: many outlets capitalise every word of them."""
    body = _DATELINE.sub("", clean_text(text), count=1)
    spans = []
    for match in _CAPITALISED.finditer(body):
        before = body[max(0, match.start() - 2) : match.start()]
        initial = match.start() == 0 or before.endswith(("\n", ". ", ": ", '"', "? ", "! "))
        spans.append((match, initial))
    inside = {m[0] for m, initial in spans if not initial}
    found: dict[int, str] = {}
    for i, (match, initial) in enumerate(spans):
        if initial and match[0] not in inside:
            following = spans[i + 1][0] if i + 1 < len(spans) else None
            if following is None or body[match.end() : following.start()] != " ":
                continue
        word = match[0].lower().replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        if len(word) < 3 or word in STOPWORDS or word.isdigit():
            continue
        found.setdefault(_hash64(b"k" + word.encode()), word)
        if len(found) >= MAX_KEYS:
            break
    return found


def content_words(title: str, text: str) -> dict[str, float]:
    # Counted first, filtered after: the test runs once a distinct word, not once a word.
    counts = Counter(normalize(f"{title}\n{text}").split())
    return {
        w: 1.0 + math.log(n)
        for w, n in counts.items()
        if len(w) > 2 and w not in STOPWORDS and not w.isdigit()
    }


_TITLE_TAIL = re.compile(r"\s+[-|\u2013\u2014]\s+([^-|\u2013\u2014]+)$")


def headline_words(title: str) -> frozenset[str]:
    """The title's content words. Trailing parts of at most three words after " - " or " | "
    ("... - Pakistan - DAWN.COM") name the outlet or its section, not the event: left out."""
    while (tail := _TITLE_TAIL.search(title)) and len(tail[1].split()) <= 3 < len(
        title[: tail.start()].split()
    ):
        title = title[: tail.start()]
    words = _WORD.findall(title.lower().replace("’", "'"))
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    return frozenset(w for w in words if len(w) > 2 and w not in STOPWORDS and not w.isdigit())


_COUNTS = "zero one two three four five six seven eight nine ten eleven twelve"
_NUMBER_WORDS = {w: n for n, w in enumerate(_COUNTS.split())}
_NUMBER = re.compile(r"\d[\d,]*")


def headline_numbers(title: str) -> frozenset[int]:
    """The numbers a title states, in digits or words up to twelve: two reports of one event
    that both give a count give the same one."""
    found = {int(n.replace(",", "")) for n in _NUMBER.findall(title) if n.replace(",", "").isdigit()}
    found.update(_NUMBER_WORDS[w] for w in _WORD.findall(title.lower()) if w in _NUMBER_WORDS)
    return frozenset(found)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller set found in the other."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def lead_of(text: str) -> str:
    """The first paragraph (or the first 60 words of a text in one block), dateline removed."""
    first = _DATELINE.sub("", text.strip(), count=1).split("\n", 1)[0]
    return " ".join(first.split()[:60])


def features(title: str, text: str, copies: bool = True) -> Features:
    """``copies=False`` leaves out the shingles and MinHash bands (for an article only judged as
    another outlet's version, never looked up as a copy)."""
    title, text = clean_text(title), clean_text(text)
    shingle_set = shingles(normalize(text)) if copies else frozenset()
    return Features(
        shingle_set,
        _bands(shingle_set),
        names(text),
        frozenset(names(lead_of(text))),
        content_words(title, text),
        headline_words(title),
        headline_numbers(title),
        content_words(title, lead_of(text)),
    )


def containment(a: frozenset[int], b: frozenset[int]) -> tuple[float, int]:
    """Share of the smaller set found in the other, and the count in common."""
    if not a or not b:
        return 0.0, 0
    shared = len(a & b)
    return shared / min(len(a), len(b)), shared


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b[w] for w, v in a.items() if w in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def day_of(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp()) // _DAY
