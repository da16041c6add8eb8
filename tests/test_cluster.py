"""Story clustering: normalisation, names, and grouping on a small synthetic corpus of wire
copy, reprints, own versions and distinct same-day events (bench/cluster_corpus.py)."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

import pytest

from pipelines import flow
from pipelines.core.records import Article
from pipelines.store import Store
from pipelines.stories import fingerprints as cluster

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from cluster_corpus import generate, relation
from conftest import run_cli


def story(title: str, text: str, at: datetime, url: str) -> Article:
    return Article(url, title, None, at, "page", "en", text, hashlib.sha256(text.encode()).hexdigest())


@pytest.mark.parametrize(
    "text",
    [
        "ISLAMABAD, Nov 26 (APP): Gunmen attacked a convoy.",
        "BEIJING, Nov. 26 (Xinhua) -- Gunmen attacked a convoy.",
        "KARACHI: Gunmen attacked a convoy.",
        "Gunmen attacked a convoy. (APP)",
        "  gunmen   ATTACKED a convoy",
    ],
)
def test_normalize_removes_dateline_agency_case_and_spacing(text):
    assert cluster.normalize(text) == "gunmen attacked a convoy"


def test_names_are_capitalised_words_not_sentence_starts_or_stopwords():
    found = set(
        cluster.names(
            "QUETTA, Nov 26 (APP): Militants attacked a post in Lakki Marwat on Tuesday. Police said "
            "the Counter Terrorism Department had registered a case. The militants fled to Bannu."
        ).values()
    )
    assert {"lakki", "marwat", "counter", "terrorism", "department", "bannu"} <= found
    assert not found & {"militants", "police", "tuesday", "the", "quetta", "app"}


def test_band_keys_are_those_earlier_releases_stored():
    """The keys datasketch 2.x's affine32 MinHash (seed 1) gave before it was computed here:
    an article stored by an earlier release is still found as a copy of a new one."""
    text = (
        "ISLAMABAD, Nov 26 (APP): A convoy carrying Chinese engineers was attacked near Besham on "
        "Tuesday, police said, and two guards were wounded before the attackers fled into the hills."
    )
    keys = cluster._bands(cluster.shingles(cluster.normalize(text)))
    assert len(keys) == cluster.BANDS
    assert keys[:3] == (-4988083196576778039, -1645221975513246132, 7506779236470009637)
    assert keys[-1] == -855957191537270668
    # the extremes of a 32-bit shingle hash
    assert cluster._bands(frozenset([0, 1, 2**32 - 1]))[:2] == (-8890055655601391217, -2513574375184024283)


def test_near_duplicate_needs_shared_text_and_the_same_names():
    lead = "Gunmen attacked a police checkpost in Lakki Marwat late on Tuesday, killing two policemen."
    body = " ".join(f"Sentence {i} of the report says the same thing about the checkpost." for i in range(12))
    a = cluster.features("A", f"{lead}\n{body}")
    b = cluster.features("B", f"{lead}\n{body}\nCopyright Daily Times.")
    share, common = cluster.containment(a.shingles, b.shingles)
    assert share > 0.9 and common > 50
    assert a.lead == b.lead


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    articles = generate(events_per_day=10, days=3, seed=3)
    store = Store(tmp_path_factory.mktemp("cluster") / "c.db")
    ids = []
    for n, a in enumerate(articles):
        ids.append(
            flow.keep(
                store,
                a.source,
                story(a.title, a.text, a.published, f"https://x.example/{n}/"),
                {},
                a.published,
                "",
            )
        )
    yield store, articles, ids
    store.close()


def test_reprints_join_the_wire_story_and_distinct_events_stay_apart(corpus_store):
    store, articles, ids = corpus_store
    story_of = dict(store.db.execute("SELECT id, story_id FROM articles").fetchall())
    merged: dict[str, list[bool]] = {}
    for (a, ia), (b, ib) in combinations(zip(articles, ids, strict=True), 2):
        merged.setdefault(relation(a, b), []).append(story_of[ia] == story_of[ib])
    assert all(merged["verbatim reprint"]) and all(merged["edited reprint"])
    assert sum(merged["own version"]) / len(merged["own version"]) > 0.8
    assert not any(merged["distinct, same kind and day"]) and not any(merged["distinct, other"])


def test_stories_table_counts_outlets_and_times(corpus_store):
    store, _articles, _ids = corpus_store
    rows = store.db.execute(
        "SELECT s.id, s.article_count, s.outlets, s.first_published, s.last_published, count(a.id), "
        "min(a.published_at), max(a.published_at) FROM stories s JOIN articles a ON a.story_id = s.id "
        "GROUP BY s.id"
    ).fetchall()
    assert rows
    for _, count, _outlets, first, last, members, earliest, latest in rows:
        assert count == members and (first, last) == (earliest, latest)
    biggest = max(rows, key=lambda r: r[1])
    assert biggest[1] >= 5 and len(set(json.loads(biggest[2]))) == len(json.loads(biggest[2])) >= 5


def test_incremental_and_full_reclustering_agree(corpus_store):
    store, _, _ = corpus_store
    before = store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall()
    stories_before = store.db.execute("SELECT * FROM stories ORDER BY id").fetchall()
    counts = flow.regroup(store)
    assert counts.articles == len(before) and counts.stories == len(stories_before)
    assert store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall() == before
    assert store.db.execute("SELECT * FROM stories ORDER BY id").fetchall() == stories_before


def test_a_story_outside_the_time_window_starts_a_new_story(tmp_path):
    store = Store(tmp_path / "w.db")
    text = (
        "BANNU: Militants attacked the Domel police station in Bannu, killing Constable Ali Khan.\n"
        + " ".join(
            f"Detail {i} about the Domel police station attack and the search near Bannu." for i in range(10)
        )
    )
    now = datetime(2026, 11, 26, 9, tzinfo=UTC)
    first = flow.keep(store, "app", story("A", text, now, "https://a.example/1/"), {}, now, "")
    again = flow.keep(
        store, "dawn", story("B", text, now + timedelta(hours=5), "https://b.example/1/"), {}, now, ""
    )
    late = now + timedelta(days=5)
    later = flow.keep(store, "dawn", story("C", text, late, "https://b.example/2/"), {}, late, "")
    rows = dict(store.db.execute("SELECT id, story_id FROM articles").fetchall())
    assert rows[first] == rows[again] != rows[later]
    outlets = store.db.execute(
        "SELECT outlets, article_count FROM stories WHERE id = ?", [rows[first]]
    ).fetchone()
    assert outlets == ('["app", "dawn"]', 2)
    store.close()


def _keep_all(store: Store, articles: list[tuple[str, str, str, datetime]]) -> list[int | None]:
    return [
        flow.keep(store, source, story(title, text, at, f"https://{source}.example/{n}/"), {}, at, "")
        for n, (source, title, text, at) in enumerate(articles)
    ]


NOON = datetime(2025, 3, 11, 12, tzinfo=UTC)
WIRE = (
    "app",
    "Nadra launches first dematerialised digital identity card on silver jubilee",
    "ISLAMABAD, Mar 11 (APP): Interior Minister Mohsin Naqvi on Tuesday launched the first "
    "dematerialised digital identity card of Nadra at a ceremony marking its silver jubilee.\n"
    "Nadra Chairman Lt Gen Muhammad Munir Afsar said the card would be kept on the Pak ID mobile "
    "application and citizens would no longer need to carry the plastic card. Mohsin Naqvi said "
    "the National Database and Registration Authority had registered 190 million citizens in 25 "
    "years. State Minister Talal Chaudhry and Interior Secretary Khurram Agha attended.",
    NOON,
)
OWN = (
    "dawn",
    "Nadra launches Pakistan's first dematerialised ID card - Pakistan - DAWN.COM",
    "Pakistanis will soon be able to carry their identity card on their phones after Nadra "
    "launched a dematerialised digital identity card, Interior Minister Mohsin Naqvi announced.\n"
    "Speaking at the Nadra silver jubilee ceremony, Mohsin Naqvi praised the authority, and Nadra "
    "Chairman Lt Gen Muhammad Munir Afsar explained that the card lives in the Pak ID application, "
    "so the plastic card becomes optional. Talal Chaudhry and Khurram Agha were also present. The "
    "National Database and Registration Authority was set up 25 years ago.",
    NOON + timedelta(hours=9),
)


def test_an_own_version_joins_the_wire_story(tmp_path):
    store = Store(tmp_path / "own.db")
    wire, own = _keep_all(store, [WIRE, OWN])
    assert store.story_of(wire) == store.story_of(own)
    store.close()


STOCK = (
    " The injured were shifted to the District Headquarters Hospital, where an emergency was declared."
    " Police cordoned off the area and a search operation was launched to trace the attackers."
    " The Chief Minister took notice of the incident and sought a report from the Inspector General."
)


def test_two_events_same_day_and_place_with_stock_sentences_stay_apart(tmp_path):
    store = Store(tmp_path / "apart.db")
    first, second = _keep_all(
        store,
        [
            (
                "app",
                "Three policemen martyred in attack on Domel checkpost in Bannu",
                "BANNU, Mar 11 (APP): Three policemen including Constable Ali Khan were martyred when "
                "militants attacked the Domel checkpost in Bannu on Tuesday morning." + STOCK,
                NOON,
            ),
            (
                "dawn",
                "Two traders shot dead in Bannu bazaar - Pakistan - DAWN.COM",
                "BANNU: Two traders, Haji Gul Zaman and his nephew Sher Afzal, were shot dead by "
                "unidentified gunmen in the Chowk Bazaar of Bannu on Tuesday evening." + STOCK,
                NOON + timedelta(hours=6),
            ),
        ],
    )
    assert store.story_of(first) != store.story_of(second)
    store.close()


def test_a_loosely_related_article_does_not_chain_two_stories(tmp_path):
    """The loose article (the launch, then a visit) joins the wire story of the launch; an
    article on the visit alone resembles the loose one, not the launch: its own story."""
    loose = (
        "dawn",
        "Naqvi launches Nadra digital identity card, visits Islamabad Safe City - DAWN.COM",
        "Interior Minister Mohsin Naqvi launched the first dematerialised digital identity card of "
        "Nadra at its silver jubilee ceremony on Tuesday.\n"
        + OWN[2]
        + "\nLater Mohsin Naqvi visited the Islamabad Safe City headquarters with Inspector "
        "General Ali Nasir Rizvi, who briefed him on 1,900 new cameras and the Safe City control "
        "room. Mohsin Naqvi ordered the cameras to cover every entry point of Islamabad by June.",
        NOON + timedelta(hours=10),
    )
    visit = (
        "app",
        "Naqvi reviews Islamabad Safe City cameras with IG Rizvi",
        "ISLAMABAD, Mar 12 (APP): Interior Minister Mohsin Naqvi, a day after launching the Nadra "
        "digital identity card, visited the Islamabad Safe City headquarters.\nInspector General "
        "Ali Nasir Rizvi briefed Mohsin Naqvi on 1,900 new cameras and the Safe City control room. "
        "Mohsin Naqvi ordered the cameras to cover every entry point of Islamabad by June.",
        NOON + timedelta(hours=20),
    )
    wire, joined, later = _keep_all(store := Store(tmp_path / "chain.db"), [WIRE, loose, visit])
    assert store.story_of(wire) == store.story_of(joined) != store.story_of(later)
    before = store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall()
    flow.regroup(store)
    assert store.db.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall() == before
    store.close()


UNVEIL = (
    "dawn",
    "Naqvi unveils phone ID for citizens at silver jubilee - Pakistan - DAWN.COM",
    OWN[2],
    NOON + timedelta(hours=2),
)


def test_an_own_version_whose_headline_shares_nothing_joins_by_the_learned_test(tmp_path):
    """The rules want headline words in common; the learned test (likeness.py) takes the
    wording, the names and the leads together."""
    store = Store(tmp_path / "learned.db")
    launch = ("app", "Nadra launches dematerialised digital identity card", WIRE[2], NOON)
    wire, own = _keep_all(store, [launch, UNVEIL])
    assert store.story_of(wire) == store.story_of(own)
    store.close()


def test_a_visit_on_the_same_day_with_the_same_stock_paragraphs_stays_apart(tmp_path):
    """One minister, one day, two visitors: the shared background does not make one event,
    the other lead's names (another country, another guest) keep them apart."""
    background = (
        "\nThe Prime Minister said Pakistan valued its relations with friendly countries and wanted "
        "to expand trade, investment and people-to-people contacts. He said the government's "
        "economic reforms had stabilised the economy and opened new opportunities for foreign "
        "investors in agriculture, information technology, mining and energy."
    )
    czech = (
        "app",
        "PM Shehbaz Sharif receives Czech Ambassador Jan Vytopil",
        "ISLAMABAD, Mar 11 (APP): Prime Minister Shehbaz Sharif on Tuesday received Ambassador of the "
        "Czech Republic Jan Vytopil, who called on him at the Prime Minister House." + background,
        NOON,
    )
    bosnia = (
        "dawn",
        "PM meets Bosnian envoy Almir Sahovic - Pakistan - DAWN.COM",
        "ISLAMABAD: Prime Minister Shehbaz Sharif met Ambassador of Bosnia and Herzegovina Almir "
        "Sahovic at the Prime Minister House on Tuesday." + background,
        NOON + timedelta(hours=5),
    )
    store = Store(tmp_path / "visits.db")
    first, second = _keep_all(store, [czech, bosnia])
    assert store.story_of(first) != store.story_of(second)
    store.close()


def test_a_later_article_that_shows_two_stories_are_one_merges_them(tmp_path):
    """Two articles of one outlet whose headlines share nothing start two stories (the learned
    test judges pairs of two outlets only); a third that tells the event as both do shows they
    are one: the stories merge, whatever came first."""
    launch = ("app", "Nadra launches dematerialised digital identity card", WIRE[2], NOON)
    unveil = (
        "app",
        "Naqvi unveils phone ID for citizens at silver jubilee",
        OWN[2],
        NOON + timedelta(hours=2),
    )
    both = (
        "thenews",
        "Naqvi launches Nadra digital identity card at silver jubilee",
        "Citizens can now keep their national identity card on their mobile phones, Interior Minister "
        "Mohsin Naqvi said on Tuesday as Nadra launched a dematerialised digital identity card at its "
        "silver jubilee.\nNadra Chairman Lt Gen Muhammad Munir Afsar told the ceremony that the Pak ID "
        "application would hold the card. Mohsin Naqvi said the National Database and Registration "
        "Authority now served 190 million citizens. Talal Chaudhry and Khurram Agha were present.",
        NOON + timedelta(hours=4),
    )
    store = Store(tmp_path / "merge.db")
    first, second = _keep_all(store, [launch, unveil])
    assert store.story_of(first) != store.story_of(second)
    (third,) = _keep_all(store, [both])
    assert store.story_of(first) == store.story_of(second) == store.story_of(third)
    stories = store.db.execute("SELECT id, first_article_id, outlets, article_count FROM stories").fetchall()
    assert stories == [(store.story_of(first), first, '["app", "thenews"]', 3)]
    assert store.db.execute("SELECT stories FROM story_names WHERE key = 0").fetchone() == (1,)
    assert store.db.execute("SELECT max(stories) FROM story_names WHERE key != 0").fetchone() == (1,)
    before = store.db.execute("SELECT * FROM stories").fetchall()
    flow.regroup(store)
    assert store.db.execute("SELECT * FROM stories").fetchall() == before
    store.close()


def _week(folder: Path, articles: list[tuple[str, str, str, datetime]], pairs: list[dict]) -> Path:
    folder.mkdir()
    rows = [
        {
            "id": f"a{n}",
            "source": s,
            "url": f"https://{s}.example/{n}/",
            "published": at.isoformat(),
            "title": title,
            "text": text,
        }
        for n, (s, title, text, at) in enumerate(articles)
    ]
    (folder / "articles.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    return folder


def test_stories_evaluate_prints_precision_recall_and_the_pairs(tmp_path):
    visit = (
        "app",
        "Two traders shot dead in Bannu bazaar",
        "BANNU, Mar 11 (APP): Two traders, Haji Gul Zaman and his nephew Sher Afzal, were shot dead by "
        "unidentified gunmen in the Chowk Bazaar of Bannu on Tuesday evening." + STOCK,
        NOON,
    )
    week = _week(
        tmp_path / "week",
        [WIRE, OWN, visit],
        [
            {"a": "a0", "b": "a1", "same": True, "agreed": True},
            {"a": "a2", "b": "a1", "same": True, "agreed": True},  # judged same, never grouped: missed
            {"a": "a2", "b": "a0", "same": True, "agreed": False},  # split: left out
        ],
    )
    result = run_cli("stories", "evaluate", str(week), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["articles"], report["stories"], report["judged_same"]) == (3, 2, 2)
    assert (report["true_pairs"], report["precision"], report["recall"]) == (1, 1.0, 0.5)
    assert [(p["a"], p["b"]) for p in report["missed_pairs"]] == [("a2", "a1")]
    assert report["false_pairs"] == []
    text = run_cli("stories", "evaluate", str(week), "--shuffle", "3")
    assert text.returncode == 0 and "recall     0.500" in text.stdout
    assert "dawn: Nadra launches Pakistan's first dematerialised ID card" in text.stdout

    (week / "pairs.jsonl").write_text('{"a": "a0", "b": "nope"}\n')
    bad = run_cli("stories", "evaluate", str(week))
    assert bad.returncode == 2 and "pairs.jsonl:1: a and b must be two article ids" in bad.stderr


def test_the_learned_test_weighs_each_signal_the_way_a_reader_would():
    from pipelines.stories.likeness import Signals

    base = Signals(wording=0.5, names=2.0, missing=0.5, days=0.5, leads=0.3)
    fields = ("wording", "names", "missing", "days", "leads")
    more = {name: Signals(**{**base.__dict__, name: getattr(base, name) + 0.5}) for name in fields}
    assert more["wording"].probability() > base.probability()
    assert more["names"].probability() > base.probability()
    assert more["leads"].probability() > base.probability()
    assert more["missing"].probability() < base.probability()
    assert more["days"].probability() < base.probability()
