"""The rule language, operator by operator, with gazetteer and statistical entities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.core.validation import ConfigError
from pipelines.watch.entities import EntityFinder, Gazetteer, load_gazetteer
from pipelines.watch.rules import parse_rules
from pipelines.watch.terms import Term
from pipelines.watch.watchlist import Watchlist, split_sentences

GROUPS = {
    "who": ["Chinese (national|citizen|engineer|worker)*", "CPEC"],
    "harm": ["attack*", "kidnap*", {"term": "massacre", "weight": 2}],
    "safe": ["security", "SOP*"],
}


def watchlist(
    *rules: dict[str, Any],
    mask: list[str] | None = None,
    finder: EntityFinder | None = None,
    gazetteer: Gazetteer | None = None,
) -> Watchlist:
    data: dict[str, Any] = {
        "name": "t",
        "tiers": {"core": 4, "mention": 2},
        "groups": GROUPS,
        "rules": list(rules),
    }
    if mask:
        data["mask"] = {"terms": mask}
    return Watchlist(parse_rules(data, "t.toml", gazetteer or (finder.gazetteer if finder else None)), finder)


def test_terms_wildcards_alternatives_hyphens_and_case():
    w = watchlist({"name": "r", "all": ["@who", "@harm"], "weight": 4})
    assert w.classify("", "Chinese engineers were attacked.").flagged
    assert w.classify("", "Two Chinese citizens kidnapped.").flagged
    assert not w.classify("", "Chinese food was attacked by critics? No: Chinese cuisine.").flagged
    assert w.classify("", "An attack on CPEC.").flagged
    assert not w.classify("", "An attack on cpec.").flagged  # capitals: case-sensitive
    hyphen = watchlist({"name": "r", "all": ["Diamer-Bhasha", "@harm"], "weight": 4})
    assert hyphen.classify("", "Diamer Bhasha dam attacked.").flagged
    assert hyphen.classify("", "Diamer–Bhasha dam attacked.").flagged


def test_sentence_paragraph_title_lead_document_scopes():
    text = "Chinese nationals arrived in Karachi. Police reported an attack elsewhere.\nSecond paragraph."
    by_scope = {
        scope: watchlist({"name": "r", "all": ["@who", "@harm"], "scope": scope, "weight": 4}).classify(
            "News", text
        )
        for scope in ("sentence", "paragraph", "lead", "document")
    }
    assert not by_scope["sentence"].flagged
    assert by_scope["paragraph"].flagged and by_scope["lead"].flagged and by_scope["document"].flagged
    title = watchlist({"name": "r", "all": ["@harm"], "scope": "title", "weight": 4})
    assert title.classify("Convoy attacked", "Nothing here.").flagged
    assert not title.classify("Convoy news", "It was attacked.").flagged


def test_any_not_and_nested_conditions():
    w = watchlist(
        {
            "name": "r",
            "all": ["@who"],
            "any": ["@harm", "@safe"],
            "not": ["security of supply", {"all": ["abroad", "Chinese"]}],
            "weight": 4,
        }
    )
    assert w.classify("", "Security for Chinese workers was raised.").flagged
    assert not w.classify("", "CPEC ensures security of supply.").flagged
    assert not w.classify("", "Chinese nationals abroad were attacked.").flagged
    assert not w.classify("", "Chinese nationals visited.").flagged


def test_within_words_is_proximity_inside_a_paragraph():
    w = watchlist({"name": "r", "all": ["@who", "@harm"], "within": 5, "weight": 4})
    assert w.classify("", "Gunmen attacked two Chinese engineers today.").flagged
    far = "Chinese engineers visited the new plant on Monday where later that week an attack happened."
    assert not w.classify("", far).flagged
    assert not w.classify("", "Chinese engineers came.\nAn attack followed.").flagged


def test_mask_hides_another_sense_but_not_the_rest_of_the_story():
    w = watchlist(
        {"name": "r", "all": ["@who", "@safe"], "scope": "document", "weight": 4}, mask=["energy security"]
    )
    assert not w.classify("", "CPEC improves energy security.").flagged
    assert w.classify("", "CPEC improves energy security. Security of CPEC sites was reviewed.").flagged


def test_weights_units_tiers_types_and_negative_rules():
    w = watchlist(
        {"name": "harm", "all": ["@who", "@harm"], "weight": 2, "type": "incident"},
        {"name": "safe", "all": ["@who", "@safe"], "weight": 1, "type": "measures", "max_units": 3},
        {"name": "sport", "all": ["cricket"], "scope": "document", "weight": -10},
    )
    mention = w.classify("", "Chinese workers were attacked.")
    assert (mention.tier, mention.type, mention.score) == ("mention", "incident", 2.0)
    weighted = w.classify("", "A massacre of Chinese workers.")  # term weight 2 doubles the rule
    assert (weighted.tier, weighted.score) == ("core", 4.0)
    repeated = w.classify("", "CPEC security. CPEC security again. CPEC SOPs. CPEC security once more.")
    assert repeated.score == 3.0 and repeated.type == "measures"
    assert not w.classify("", "Chinese workers attacked during cricket.").flagged
    needs_two = watchlist({"name": "r", "all": ["@who", "@harm"], "weight": 4, "min_units": 2})
    assert not needs_two.classify("", "Chinese workers attacked.").flagged
    assert needs_two.classify("", "Chinese workers attacked. Another attack on Chinese nationals.").flagged


def test_reasons_name_rules_terms_and_sentences():
    w = watchlist({"name": "harm", "all": ["@who", "@harm"], "weight": 4, "type": "incident"})
    verdict = w.classify("Headline", "Police said. Gunmen attacked Chinese engineers near Besham. More.")
    assert verdict.reasons == [
        {
            "rule": "harm",
            "score": 4.0,
            "units": 1,
            "terms": ["attacked", "Chinese engineers"],
            "entities": [],
            "sentences": ["Gunmen attacked Chinese engineers near Besham."],
        }
    ]


def test_sentence_splitting_keeps_abbreviations_and_initials():
    text = "Lt. Gen. Khan met Mr. M. Ali at 5 p.m. on Jan. 5. The talks ended."
    assert [text[s:e] for s, e in split_sentences(text, 0, len(text))] == [
        "Lt. Gen. Khan met Mr. M. Ali at 5 p.m. on Jan. 5.",
        "The talks ended.",
    ]


def test_prefilter_skips_ordinary_news():
    w = watchlist({"name": "r", "all": ["@who", "@harm"], "weight": 4})
    assert w.prefilter is not None
    assert not w.prefilter.search("Pakistan beat New Zealand by seven wickets in the second T20I.")
    # The rule needs a @who and a @harm term: a story must hold the beginning of one of each.
    assert w.prefilter.search("Gunmen ATTACKED the convoy of Chinese engineers")
    assert not w.prefilter.search("Gunmen attacked the convoy")
    assert not w.prefilter.search("Chinese engineers arrived")
    assert not w.classify("", "Chinese engineers arrived").flagged


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(
        "test",
        {
            "CPEC_SITE": (Term("Gwadar"), Term("Diamer-Bhasha"), Term("M-8")),
            "ARMED_GROUP": (Term("BLA", case_sensitive=True),),
        },
    )


def test_gazetteer_entities_through_spacy(gazetteer):
    finder = EntityFinder(gazetteer, "none")
    w = watchlist({"name": "r", "all": ["entity:CPEC_SITE", "@harm"], "weight": 4}, finder=finder)
    verdict = w.classify("", "Militants attacked a convoy on the M-8 near Gwadar.")
    assert verdict.flagged
    assert verdict.reasons[0]["entities"] == ["M-8 (CPEC_SITE)", "Gwadar (CPEC_SITE)"]
    assert w.classify("", "Diamer Bhasha site attacked.").flagged
    assert not w.classify("", "Militants attacked a checkpost in Bannu.").flagged
    groups = watchlist({"name": "r", "all": ["entity:ARMED_GROUP", "@who"], "weight": 4}, finder=finder)
    assert groups.classify("", "The BLA threatened Chinese workers.").flagged
    assert not groups.classify("", "The bla threatened Chinese workers.").flagged
    assert finder.statistical is False


def test_bundled_gazetteer_loads_and_every_term_is_found_by_the_entity_ruler():
    gazetteer = load_gazetteer(Path(__file__).resolve().parent.parent / "config" / "gazetteer.toml")
    finder = EntityFinder(gazetteer, "none")
    for label, terms in gazetteer.labels.items():
        for term in terms:
            if "(" in term.text:
                continue
            found = finder.find(f"They spoke of {term.text} yesterday.")
            assert any(e.label == label for e in found), (label, term.text)


def test_unknown_entity_label_is_a_rule_error(gazetteer):
    from pipelines.core.validation import ConfigError

    with pytest.raises(ConfigError, match=r"rules\[r\].all\[0\]: unknown entity label 'DAM'"):
        watchlist({"name": "r", "all": ["entity:DAM"], "weight": 1}, gazetteer=gazetteer)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A statistical NER pipeline trained here, on a few sentences: the real loading path
    without downloading a model."""
    import spacy
    from spacy.training import Example

    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    ner.add_label("GPE")
    sentences = [
        ("Officials in Quetta met today.", [(13, 19, "GPE")]),
        ("The team flew to Quetta again.", [(17, 23, "GPE")]),
        ("Quetta police reported calm.", [(0, 6, "GPE")]),
        ("A delegation reached Quetta.", [(21, 27, "GPE")]),
    ]
    examples = [Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in sentences]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    path = tmp_path_factory.mktemp("model") / "tiny_ner"
    nlp.to_disk(path)
    return path


def test_statistical_entities_when_a_model_is_configured(gazetteer, tiny_model):
    finder = EntityFinder(gazetteer, str(tiny_model))
    w = watchlist({"name": "r", "all": ["entity:GPE", "@harm"], "weight": 4}, finder=finder)
    assert w.prefilter is not None and w.prefilter.search("attacked")  # the terms still prefilter
    alone = watchlist({"name": "r", "all": ["entity:GPE"], "weight": 4}, finder=finder)
    assert alone.prefilter is None  # a rule on statistical entities alone cannot be prefiltered
    verdict = w.classify("", "Gunmen attacked a bus in Quetta.")
    assert finder.statistical is True
    assert verdict.flagged and "Quetta (GPE)" in verdict.reasons[0]["entities"]
    # The gazetteer still wins where both apply.
    both = watchlist({"name": "r", "all": ["entity:CPEC_SITE", "@harm"], "weight": 4}, finder=finder)
    assert both.classify("", "Gunmen attacked a bus in Gwadar.").flagged


def test_without_a_model_statistical_rules_simply_do_not_fire(gazetteer):
    w = watchlist(
        {"name": "r", "all": ["entity:GPE", "@harm"], "weight": 4}, finder=EntityFinder(gazetteer, "none")
    )
    assert not w.classify("", "Gunmen attacked a bus in Quetta.").flagged


def test_requires_unless_and_min_words_link_rules():
    w = watchlist(
        {"name": "body", "all": ["@who", "@harm"], "weight": 2},
        {"name": "headline", "all": ["@harm"], "scope": "title", "requires": "body", "weight": 2},
        {"name": "calm", "all": ["@safe"], "unless": ["headline"], "weight": 1},
        {"name": "long", "all": ["@who"], "scope": "document", "min_words": 12, "weight": -1},
    )
    both = w.classify("Convoy attacked", "Chinese engineers attacked. Security raised.")
    assert [r["rule"] for r in both.reasons] == ["body", "headline"] and both.tier == "core"
    alone = w.classify("Convoy attacked", "Security raised.")  # the headline needs the body rule
    assert [r["rule"] for r in alone.reasons] == ["calm"]
    long = w.classify("", "Chinese engineers attacked. " + "Then other news followed. " * 3)
    assert [(r["rule"], r["score"]) for r in long.reasons] == [("body", 2.0), ("long", -1.0)]
    with pytest.raises(ConfigError) as error:
        watchlist({"name": "a", "all": ["@who"], "requires": "b"}, {"name": "b", "all": ["@who"]})
    assert "rules[a].requires: expected names of rules above this one" in str(error.value.problems)


def test_within_in_the_title_looks_at_the_title_only():
    w = watchlist({"name": "r", "all": ["Chinese", "@safe"], "within": 3, "scope": "title", "weight": 4})
    assert w.classify("Security for Chinese workers", "").flagged
    assert not w.classify("Chinese visit", "Chinese security staff arrived.").flagged


@pytest.fixture(scope="module")
def bundled() -> Watchlist:
    from pipelines.watch.watchlist import load_watchlists

    root = Path(__file__).resolve().parent.parent / "config"
    (found,) = load_watchlists((root / "watchlists",), root / "gazetteer.toml", "none")
    return found


def test_bundled_watchlist_follows_the_definition_not_the_words(bundled):
    def rules(title: str, text: str) -> dict[str, float]:
        return {r["rule"]: r["score"] for r in bundled.classify(title, text).reasons}

    # The aftermath of an attack on them is core, though the headline names no Chinese.
    aftermath = bundled.classify(
        "Perpetrators of Karachi blast will be brought to justice: minister",
        "KARACHI: The minister vowed that the perpetrators of the suicide attack on a van carrying "
        "Chinese teachers would be brought to justice.\nThree Chinese nationals were killed in the "
        "attack near the Confucius Institute.\nThe minister visited the site.",
    )
    assert aftermath.tier == "core" and aftermath.type == "incident"
    hearing = bundled.classify(
        "ATC adjourns hearing of Confucius Institute case",
        "KARACHI: An anti-terrorism court adjourned the hearing of the case against two suspects "
        "accused of facilitating the suicide attack on Chinese teachers of the Confucius Institute.\n"
        "The prosecutor said witnesses would be heard.\nThe attack killed three Chinese teachers.",
    )
    assert hearing.tier == "core"
    mild = bundled.classify(  # a meeting mainly about their security, under a mild headline
        "Minister, Chinese envoy discuss matters of mutual interest",
        "ISLAMABAD: The interior minister and the Chinese ambassador discussed matters of mutual interest.\n"
        "The minister said the government would ensure foolproof security of Chinese nationals.\n"
        "He said fresh security arrangements had been made for Chinese engineers at project sites.\n"
        "The envoy thanked him for the steps taken to protect Chinese citizens in Pakistan.",
    )
    assert mild.tier == "core" and mild.type == "measures"
    arrested = "Police arrested three Chinese nationals for illegal mining in Gilgit, officials said."
    assert not bundled.classify("Chinese nationals arrested for illegal mining", arrested).flagged
    # An attack in Pakistan "planned in Afghanistan" is not about Chinese nationals abroad...
    planned = rules(
        "Attack on Chinese engineers planned in Afghanistan: minister",
        "ISLAMABAD: The attack on Chinese engineers was planned in Afghanistan, the minister said.",
    )
    assert "chinese-abroad" not in planned
    # ...Chinese nationals in Afghanistan are.
    there = rules("Embassy advice", "Chinese nationals in Afghanistan stay indoors after an attack in Kabul.")
    assert there["chinese-abroad"] < 0
    # A rocket's blast-off is no attack; a bus accident is no attack either.
    assert not bundled.classify(
        "Three Chinese astronauts blast off for space station - World - DAWN.COM",
        "Three Chinese astronauts blasted off on Thursday for the space station from Pakistan's ally.",
    ).flagged
    bus = bundled.classify(
        "2 dead, 14 injured as bus veers off road into ravine",
        "ABBOTTABAD: Two passengers were killed and 14 injured, including two Chinese nationals, "
        "when a bus veered off the road into a ravine on Monday.",
    )
    assert not bus.flagged
    # "Safety" next to a project is the engineering sense; next to people it is theirs.
    assert "cpec-site-protected" not in rules(
        "Railway upgrade", "The ML-1 track upgrade will ensure safety in Sindh."
    )
    assert "chinese-protected" in rules("Visit", "Police ensured the safety of Chinese engineers in Sindh.")


def test_a_gazetteer_term_in_two_labels_is_an_error(tmp_path):
    from pipelines.core.validation import ConfigError
    from pipelines.watch.entities import load_gazetteer

    path = tmp_path / "gazetteer.toml"
    path.write_text('[CPEC_SITE]\nterms = ["Dasu", "Karot"]\n[PLACE]\nterms = ["Besham", "dasu"]\n')
    with pytest.raises(ConfigError) as error:
        load_gazetteer(path)
    assert error.value.problems == [
        f"{path}: PLACE.terms: 'dasu' is also a term of CPEC_SITE; keep it in one label"
    ]
