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
    # A lone "*" is any one word.
    any_word = watchlist({"name": "r", "all": ["blasts * for"], "weight": 4})
    assert any_word.classify("", "The minister blasts Wapda for the delay.").flagged
    assert not any_word.classify("", "Twin blasts for the second day.").flagged
    assert not any_word.classify("", "The minister blasts the authority for the delay.").flagged


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


def test_within_words_is_proximity_inside_a_sentence():
    w = watchlist({"name": "r", "all": ["@who", "@harm"], "within": 5, "weight": 4})
    assert w.classify("", "Gunmen attacked two Chinese engineers today.").flagged
    far = "Chinese engineers visited the new plant on Monday where later that week an attack happened."
    assert not w.classify("", far).flagged
    assert not w.classify("", "Chinese engineers came.\nAn attack followed.").flagged
    # Near, but across a full stop: the end of one sentence and the start of the next.
    assert not w.classify("", "He praised CPEC. Attacks elsewhere were not discussed.").flagged
    paragraph = watchlist(
        {"name": "r", "all": ["@who", "@harm"], "within": 5, "scope": "paragraph", "weight": 4}
    )
    assert paragraph.classify("", "He praised CPEC. Attacks elsewhere were not discussed.").flagged


def test_clause_keeps_the_items_of_a_within_rule_in_one_clause():
    w = watchlist({"name": "r", "all": ["@who", "@safe"], "within": 6, "clause": True, "weight": 4})
    assert w.classify("", "They reviewed the security of CPEC projects.").flagged
    # Two items of a list of topics, or two clauses, are not one statement.
    assert not w.classify("", "They discussed CPEC, security concerns, cotton and trade.").flagged
    assert not w.classify("", "A flagship of CPEC; it boasts modern security.").flagged
    assert not w.classify("", "A flagship of CPEC — it boasts modern security.").flagged
    assert w.classify("", "A flagship of CPEC, it boasts modern security; CPEC security is tight.").flagged
    loose = watchlist({"name": "r", "all": ["@who", "@safe"], "within": 6, "weight": 4})
    assert loose.classify("", "They discussed CPEC, security concerns, cotton and trade.").flagged
    with pytest.raises(ConfigError) as error:
        watchlist({"name": "r", "all": ["@who", "@safe"], "clause": True})
    assert error.value.problems == [
        "t.toml: rules[r].clause: needs `within`: the items whose clause is compared"
    ]


def test_mask_hides_another_sense_but_not_the_rest_of_the_story():
    w = watchlist(
        {"name": "r", "all": ["@who", "@safe"], "scope": "document", "weight": 4}, mask=["energy security"]
    )
    assert not w.classify("", "CPEC improves energy security.").flagged
    assert w.classify("", "CPEC improves energy security. Security of CPEC sites was reviewed.").flagged


def test_masker_blanks_only_the_terms_it_finds_and_keeps_offsets():
    from pipelines.watch.terms import Masker

    masker = Masker([Term("energy security"), Term("blast(s|ed) * for"), Term("UNSC", case_sensitive=True)])
    text = "Energy\nsecurity matters; the minister blasted Wapda for it; unsc and UNSC met."
    masked = masker.sub(text)
    assert len(masked) == len(text)
    assert masked.split() == ["matters;", "the", "minister", "it;", "unsc", "and", "met."]
    assert masker.sub("Nothing to hide here.") == "Nothing to hide here."
    assert (
        Masker([Term("* security")]).sub("Food security.") == "             ."
    )  # a leading "*": always tried


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


def test_load_builds_the_entity_pipeline_now_for_a_watchlist_that_needs_it(gazetteer):
    """A bulk import's workers load it before their first page (pipelines/analyse.py)."""
    plain_finder, entity_finder = EntityFinder(gazetteer, "none"), EntityFinder(gazetteer, "none")
    plain = watchlist({"name": "r", "all": ["@harm"], "weight": 4}, finder=plain_finder)
    needs = watchlist({"name": "r", "all": ["entity:CPEC_SITE", "@harm"], "weight": 4}, finder=entity_finder)
    plain.load()
    needs.load()
    assert plain_finder._nlp is None and entity_finder._nlp is not None


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


def test_bundled_watchlist_tells_security_from_other_senses(bundled):
    """One case each rule fires on and one it must not, in the kinds seen on a long-form daily."""

    def rules(title: str, text: str) -> dict[str, float]:
        return {r["rule"]: r["score"] for r in bundled.classify(title, text).reasons}

    # A threat to a project counts when the sentence says whose; a political "threat" does not.
    assert "cpec-site-threatened" in rules(
        "Minister's briefing",
        "ISLAMABAD: There were major threats to CPEC which the law enforcement agencies averted, he said.",
    )
    politics = rules(
        "Senator warns of threats to sovereignty",
        "PESHAWAR: Foreign designs to control Gwadar Port posed a threat to Pakistan's sovereignty, he said.",
    )
    assert "cpec-site-attacked" not in politics and "cpec-site-threatened" not in politics
    # "Mastermind" is a visionary unless it is the mastermind of something.
    assert "cpec-site-attacked" not in rules(
        "Airport opens", "GWADAR: The masterminds who envisioned CPEC planned this airport, he said."
    )
    assert "cpec-site-attacked" in rules(
        "Arrest", "QUETTA: The mastermind of the attack on the Dasu convoy was arrested, police said."
    )
    # A headline's "blasts X for" is criticism; a blast on a road is an attack.
    assert not bundled.classify(
        "Cost overrun", "ISLAMABAD: The minister blasts Wapda for awarding the KKH contract in dollars."
    ).flagged
    assert "cpec-site-attacked" in rules(
        "Blast", "KOHISTAN: A blast hit a truck on the KKH near Dasu on Monday."
    )
    # A dedicated force counts where the paragraph says what it does, not as an officer's unit.
    assert "dedicated-force" in rules(
        "Security review",
        "KARACHI: The Special Protection Unit escorts Chinese engineers working on CPEC projects.",
    )
    assert not bundled.classify(
        "Officers transferred",
        "KARACHI: DSP Ali of the Special Protection Unit for CPEC was transferred and told to report "
        "to the central police office.",
    ).flagged
    # A project in Gwadar that was guarded is counted once, not again as the town.
    once = rules("Port", "GWADAR: The navy reviewed the security of Gwadar Port on Monday.")
    assert "cpec-site-protected" in once and "gwadar-protected" not in once
    assert "gwadar-protected" in rules("Town", "GWADAR: The navy will protect Gwadar, the admiral said.")
    # A topic list puts a project and "security" in different items: not one statement.
    assert not bundled.classify(
        "Delegation meets investment board",
        "QUETTA: They discussed the Gwadar Free Zone, security concerns, cotton and meat exports.",
    ).flagged
    # China's people as "its nationals"; not its nationals abroad.
    assert "china-its-nationals" in rules(
        "Visit postponed",
        "ISLAMABAD: The visit came amid Chinese concerns following attacks on its nationals in Pakistan.",
    )
    assert "china-its-nationals" not in rules(
        "Advisory",
        "ISLAMABAD: China told its citizens in Myanmar to stay safe after an attack, the envoy said.",
    )
    # Guarding them counts when the sentence says something specific: an arrangement, a
    # commitment, a concern or who provides it; not security as scenery or business climate.
    assert "chinese-protected" in rules(
        "Meeting", "LAHORE: The police will ensure the security of Chinese engineers at the plant."
    )
    assert "chinese-protected" in rules(
        "Travel", "KARACHI: Chinese engineers will be safe in bulletproof cars."
    )
    assert not bundled.classify(
        "Barrage upgrade",
        "SUKKUR: The gates are being replaced as Chinese engineers remained busy amidst strict security.",
    ).flagged
    assert not bundled.classify(
        "Reforms stall",
        "KARACHI: The Chinese companies are reluctant to relocate here due to uncertain security conditions.",
    ).flagged
