"""Clustering: one story (event), many articles. Wire copies and each outlet's own version of
an event are grouped into `stories`, incrementally, as each article is stored.

Two tests, in this order, against articles stored before this one:

1. **Near-duplicate** (a reprint of wire copy, word for word or lightly edited): MinHash over
   word 5-shingles of the normalised text (dateline and agency tag removed, case and
   whitespace folded), banded into LSH keys kept in an indexed table, so candidates come from
   an SQL lookup; each candidate is then checked exactly: the shingles both share cover at
   least ``DUP_CONTAINMENT`` of the shorter text.
2. **Same event** (another outlet's own version): published within ``EVENT_WINDOW`` of each
   other, sharing rare names (capitalised words: places, people, bodies; rarity measured
   among the articles of those days) and similar in wording. Both must hold, so two attacks
   on the same day, alike in words but elsewhere and on other people, stay two stories.

The article joins the story of the best match, or starts a story. A decision depends only
on articles stored before (lower ids), so `recluster` (every article again, in id order)
arrives at the same grouping as incremental assignment did.

Pure functions (`features`, `containment`, `cosine`, ...) plus `assign`, which reads and
writes the index tables in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sqlite3
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

NUM_PERM = 96
BANDS, ROWS = 32, 3  # candidates from Jaccard ~0.3 up (0.5: 99%, 0.4: 88%, 0.1: 3%)
SHINGLE = 5  # words per shingle
DUP_WINDOW = timedelta(hours=48)  # reprints of wire copy appear within a day or two
DUP_CONTAINMENT = 0.5  # share of the shorter text's shingles found in the other
DUP_MIN_SHARED = 10  # and at least this many shingles in common
LEAD_AGREEMENT = 0.7  # each lead's names, weighted by rarity, found in the other article
EVENT_WINDOW = timedelta(hours=48)
EVENT_MIN_KEYS = 3  # rare names in common...
EVENT_KEY_SHARE = 0.3  # ...carrying this share of the new article's rare-name weight (idf)
RARE_MIN, RARE_SHARE = 20, 0.02  # a name in more stories than both is not rare
MAX_EVENT_CANDIDATES = 20
EVENT_COSINE = 0.35  # and this wording similarity
MAX_KEYS = 60
_DAY = 86_400

SCHEMA = """
CREATE TABLE stories (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,                 -- of its first article
    first_article_id INTEGER NOT NULL REFERENCES articles(id),
    first_published TEXT,                -- earliest publication time of its articles
    last_published TEXT,                 -- latest
    outlets TEXT NOT NULL,               -- JSON list of source ids, in order of arrival
    article_count INTEGER NOT NULL
);
ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES stories(id);
CREATE INDEX articles_story ON articles(story_id);
-- LSH band keys of each article's MinHash signature: near-duplicate candidates by lookup.
CREATE TABLE story_bands (
    key INTEGER NOT NULL,
    day INTEGER NOT NULL,                -- days since 1970-01-01 of the article's time
    article_id INTEGER NOT NULL,
    PRIMARY KEY (key, day, article_id)
) WITHOUT ROWID;
-- Names (capitalised words) of each article: same-event candidates by lookup.
CREATE TABLE story_keys (
    key INTEGER NOT NULL,
    day INTEGER NOT NULL,
    article_id INTEGER NOT NULL,
    PRIMARY KEY (key, day, article_id)
) WITHOUT ROWID;
-- In how many stories each name occurs (key 0: how many stories there are): name rarity.
CREATE TABLE story_names (
    key INTEGER PRIMARY KEY,
    stories INTEGER NOT NULL
);
CREATE TABLE story_links (
    story_id INTEGER NOT NULL,
    key INTEGER NOT NULL,
    PRIMARY KEY (story_id, key)
) WITHOUT ROWID;
"""

TABLES = ("story_bands", "story_keys", "story_names", "story_links", "stories")

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


@dataclass(frozen=True)
class Decision:
    story_id: int
    new: bool
    how: str  # "new" | "duplicate" | "event"
    matched: int | None = None  # the article it was matched with
    score: float = 0.0


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


_PERMUTATIONS: list[object] = []  # of the MinHash scheme below, made once per process


def _bands(shingle_set: frozenset[int]) -> tuple[int, ...]:
    if not shingle_set:
        return ()
    # Imported here: datasketch brings numpy and scipy, which a run with nothing new never needs.
    import numpy as np
    from datasketch import MinHash

    # The scheme named, so stored band keys stay valid across datasketch upgrades. Shingles are
    # 32-bit hashes already: they serve as is (datasketch would sha1 them again).
    if not _PERMUTATIONS:
        _PERMUTATIONS.append(MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations)
    signature = MinHash(
        num_perm=NUM_PERM, seed=1, hashfunc=int, scheme="affine32", permutations=_PERMUTATIONS[0]
    )
    signature.update_batch(shingle_set)
    values = np.asarray(signature.hashvalues, dtype=np.uint64)
    return tuple(
        _hash64(bytes([band]) + values[band * ROWS : (band + 1) * ROWS].tobytes()) for band in range(BANDS)
    )


def names(text: str) -> dict[int, str]:
    """Capitalised words (places, people, bodies...) as hashed keys, stopwords left out. A
    sentence's first word counts only when the text also capitalises it elsewhere or it
    starts a run of capitalised words ("Counter Terrorism Department"). Headlines are left
    out: many outlets capitalise every word of them."""
    body = _DATELINE.sub("", text, count=1)
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
    counts = Counter(
        w
        for w in normalize(f"{title}\n{text}").split()
        if len(w) > 2 and w not in STOPWORDS and not w.isdigit()
    )
    return {w: 1.0 + math.log(n) for w, n in counts.items()}


def lead_of(text: str) -> str:
    """The first paragraph (or the first 60 words of a text in one block), dateline removed."""
    first = _DATELINE.sub("", text.strip(), count=1).split("\n", 1)[0]
    return " ".join(first.split()[:60])


def features(title: str, text: str) -> Features:
    shingle_set = shingles(normalize(text))
    return Features(
        shingle_set,
        _bands(shingle_set),
        names(text),
        frozenset(names(lead_of(text))),
        content_words(title, text),
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


# -- the index in SQLite --------------------------------------------------------------------


def _candidates(
    conn: sqlite3.Connection, table: str, keys: list[int], day: int, window: timedelta, before: int
) -> list[tuple[int, int]]:
    """(key, article_id) rows of earlier articles sharing a key within ``window`` days."""
    if not keys:
        return []
    days = math.ceil(window.total_seconds() / _DAY)
    return conn.execute(
        f"SELECT key, article_id FROM {table} WHERE key IN ({','.join('?' * len(keys))}) "
        "AND day BETWEEN ? AND ? AND article_id < ?",
        [*keys, day - days, day + days, before],
    ).fetchall()


@dataclass(frozen=True)
class _Other:
    id: int
    story_id: int
    at: datetime
    title: str
    text: str


def _articles(conn: sqlite3.Connection, ids: list[int]) -> list[_Other]:
    """Earlier articles (with a story) by id, in id order."""
    if not ids:
        return []
    rows = conn.execute(
        "SELECT id, story_id, coalesce(published_at, fetched_at), title, text FROM articles "
        f"WHERE id IN ({','.join('?' * len(ids))}) AND story_id IS NOT NULL ORDER BY id",
        ids,
    ).fetchall()
    return [_Other(r[0], r[1], datetime.fromisoformat(r[2]), r[3], r[4]) for r in rows]


class Rarity:
    """How telling a name is: names found in few stories (a district, a person) weigh more
    than names found in many (a province, a ministry). Counted per story, not per article,
    so fifty copies of one story do not make its names common."""

    def __init__(self, conn: sqlite3.Connection, keys: list[int]):
        row = conn.execute("SELECT stories FROM story_names WHERE key = 0").fetchone()
        self.stories = row[0] if row else 0
        self.counts: dict[int, int] = {}
        for chunk in range(0, len(keys), 500):
            part = keys[chunk : chunk + 500]
            self.counts.update(
                conn.execute(
                    f"SELECT key, stories FROM story_names WHERE key IN ({','.join('?' * len(part))})", part
                ).fetchall()
            )

    def weight(self, key: int) -> float:
        return math.log((self.stories + 2) / (self.counts.get(key, 0) + 1))

    def rare(self, key: int) -> bool:
        return self.counts.get(key, 0) <= max(RARE_MIN, RARE_SHARE * self.stories)

    def share(self, part: frozenset[int] | set[int], whole: frozenset[int] | set[int]) -> float:
        """Weighted share of ``whole`` found in ``part`` (1.0 when ``whole`` is empty: nothing
        in it disagrees)."""
        total = sum(self.weight(k) for k in whole)
        return sum(self.weight(k) for k in whole & part) / total if total else 1.0


def _leads_agree(
    rarity: Rarity, feats: Features, other: _Other, other_names: set[int], named: bool = False
) -> bool:
    """Each lead's names (weighted by rarity) are mostly found in the other article: the same
    place and the same people, not just the same kind of news. ``named``: the leads must
    name something (a lead without names agrees with anything)."""
    other_lead = set(names(lead_of(other.text)))
    if named and not (feats.lead and other_lead):
        return False
    return (
        rarity.share(other_names, feats.lead) >= LEAD_AGREEMENT
        and rarity.share(set(feats.keys), other_lead) >= LEAD_AGREEMENT
    )


def match(
    conn: sqlite3.Connection, article_id: int, at: datetime, feats: Features
) -> tuple[str, int, float] | None:
    """The best earlier article this one belongs with: (how, article id, score), or None."""
    day = day_of(at)
    rarity = Rarity(conn, list(feats.keys))

    # 1. near-duplicates: LSH candidates, checked exactly
    rows = _candidates(conn, "story_bands", list(feats.bands), day, DUP_WINDOW, article_id)
    best: tuple[str, int, float] | None = None
    for other in _articles(conn, sorted({a for _, a in rows})):
        if abs(at - other.at) > DUP_WINDOW:
            continue
        share, common = containment(feats.shingles, shingles(normalize(other.text)))
        if share < DUP_CONTAINMENT or common < DUP_MIN_SHARED or (best and share <= best[2]):
            continue
        # Wire stories of two events can share whole stock sentences; a reprint names the
        # same place and people in its lead.
        if _leads_agree(rarity, feats, other, set(names(other.text))):
            best = ("duplicate", other.id, share)
    if best:
        return best

    # 2. the same event: rare names in common, the same names in the leads, similar wording
    specific = [k for k in feats.keys if rarity.rare(k)]
    mass = sum(rarity.weight(k) for k in specific) or 1.0
    shared: dict[int, set[int]] = {}
    for key, other_id in _candidates(conn, "story_keys", specific, day, EVENT_WINDOW, article_id):
        shared.setdefault(other_id, set()).add(key)
    scored = sorted(
        (-sum(rarity.weight(k) for k in keys) / mass, other_id)
        for other_id, keys in shared.items()
        if len(keys) >= EVENT_MIN_KEYS
    )
    top = {i: -negative for negative, i in scored[:MAX_EVENT_CANDIDATES] if -negative >= EVENT_KEY_SHARE}
    for other in _articles(conn, sorted(top)):
        if abs(at - other.at) > EVENT_WINDOW:
            continue
        if not _leads_agree(rarity, feats, other, set(names(other.text)), named=True):
            continue
        similarity = cosine(feats.words, content_words(other.title, other.text))
        if similarity >= EVENT_COSINE:
            score = (similarity + top[other.id]) / 2
            if best is None or score > best[2]:
                best = ("event", other.id, score)
    return best


def assign(
    conn: sqlite3.Connection,
    article_id: int,
    source: str,
    title: str,
    text: str,
    at: datetime,
    published: str | None,
    feats: Features | None = None,
) -> Decision:
    """Put a stored article into a story (in the caller's transaction) and index it.
    ``feats`` may come precomputed from an extraction worker."""
    feats = feats or features(title, text)
    found = match(conn, article_id, at, feats)
    if found is None:
        cursor = conn.execute(
            "INSERT INTO stories (title, first_article_id, first_published, last_published, outlets, "
            "article_count) VALUES (?, ?, ?, ?, ?, 1)",
            [title, article_id, published, published, json.dumps([source])],
        )
        assert cursor.lastrowid is not None, "INSERT sets lastrowid"
        decision = Decision(cursor.lastrowid, True, "new")
        conn.execute(
            "INSERT INTO story_names (key, stories) VALUES (0, 1) "
            "ON CONFLICT (key) DO UPDATE SET stories = stories + 1"
        )
    else:
        how, other_id, score = found
        (story_id,) = conn.execute("SELECT story_id FROM articles WHERE id = ?", [other_id]).fetchone()
        first, last, outlets = conn.execute(
            "SELECT first_published, last_published, outlets FROM stories WHERE id = ?", [story_id]
        ).fetchone()
        sources = json.loads(outlets)
        if source not in sources:
            sources.append(source)
        if published:
            first = min(first, published) if first else published
            last = max(last, published) if last else published
        conn.execute(
            "UPDATE stories SET first_published = ?, last_published = ?, outlets = ?, "
            "article_count = article_count + 1 WHERE id = ?",
            [first, last, json.dumps(sources), story_id],
        )
        decision = Decision(story_id, False, how, other_id, score)
    conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", [decision.story_id, article_id])
    day = day_of(at)
    conn.executemany(
        "INSERT OR IGNORE INTO story_bands (key, day, article_id) VALUES (?, ?, ?)",
        [(key, day, article_id) for key in set(feats.bands)],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO story_keys (key, day, article_id) VALUES (?, ?, ?)",
        [(key, day, article_id) for key in feats.keys],
    )
    for key in feats.keys:  # a name new to this story makes it one story more common
        if conn.execute(
            "INSERT OR IGNORE INTO story_links (story_id, key) VALUES (?, ?)", [decision.story_id, key]
        ).rowcount:
            conn.execute(
                "INSERT INTO story_names (key, stories) VALUES (?, 1) "
                "ON CONFLICT (key) DO UPDATE SET stories = stories + 1",
                [key],
            )
    return decision


def clear(conn: sqlite3.Connection) -> None:
    """Forget every story and the index (in the caller's transaction)."""
    conn.execute("UPDATE articles SET story_id = NULL WHERE story_id IS NOT NULL")
    for table in TABLES:
        conn.execute(f"DELETE FROM {table}")
