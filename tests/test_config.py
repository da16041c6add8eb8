"""Config, seed and watchlist files: defaults, overrides, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config.paths import bundled
from crawler.config.seeds import load_sources, parse_source_text, select
from crawler.config.wirewatch import load_config
from pipelines.core.validation import ConfigError
from pipelines.watch.rules import parse_rules
from pipelines.watch.watchlist import load_watchlists

GOOD_SEED = """
id = "x"
title = "X"
allowed_domains = ["example.org"]
feeds = ["https://example.org/feed/"]
[articles]
allow = ['^https://example\\.org/news/']
"""


def test_defaults_load_and_bundled_files_are_valid():
    config = load_config(None)
    assert config.crawl.polite is True
    assert config.crawl.allow_private_addresses is False
    assert "wirewatch/" in config.crawl.resolved_user_agent
    sources = {s.id: s for s in load_sources(config.source_paths)}
    assert sorted(sources) == sorted(BUNDLED_ARTICLES)
    for name, (story, not_story) in BUNDLED_ARTICLES.items():
        assert sources[name].is_article(story), name
        assert not sources[name].is_article(not_story), name
        assert sources[name].enabled and sources[name].download_delay >= 3, name
    assert [w.name for w in load_watchlists(config.watchlist_paths, config.gazetteer)] == ["cpec-security"]


# Each bundled seed, with a story URL of the shape it expects and a page that is not a story.
BUNDLED_ARTICLES = {
    "app": (
        "https://www.app.com.pk/national/chinese-engineers-attacked/",
        "https://www.app.com.pk/national/page/2/",
    ),
    "dawn": ("https://www.dawn.com/news/1874512/convoy-attacked", "https://www.dawn.com/latest-news"),
    "thenews": (
        "https://www.thenews.com.pk/latest/1256789-convoy-attacked",
        "https://www.thenews.com.pk/latest-stories",
    ),
    "tribune": ("https://tribune.com.pk/story/2512345/convoy-attacked", "https://tribune.com.pk/latest"),
    "brecorder": (
        "https://www.brecorder.com/news/40331234/convoy-attacked",
        "https://www.brecorder.com/latest-news",
    ),
    "radio": ("https://www.radio.gov.pk/26-11-2026/convoy-attacked", "https://www.radio.gov.pk/national"),
    "observer": (
        "https://pakobserver.net/convoy-attacked-near-besham/",
        "https://pakobserver.net/category/national/",
    ),
    "dailytimes": (
        "https://dailytimes.com.pk/1245678/convoy-attacked/",
        "https://dailytimes.com.pk/pakistan/",
    ),
    "nation": ("https://www.nation.com.pk/26-Nov-2026/convoy-attacked", "https://www.nation.com.pk/latest"),
    "xinhua": (
        "https://english.news.cn/20261126/0a1b2c3d4e5f60718293a4b5c6d7e8f9/c.html",
        "https://english.news.cn/asiapacific/index.htm",
    ),
    "globaltimes": (
        "https://www.globaltimes.cn/page/202611/1334567.shtml",
        "https://www.globaltimes.cn/china/",
    ),
    "cgtn": (
        "https://news.cgtn.com/news/2026-11-26/Convoy-attacked-1AbCdEf/index.html",
        "https://www.cgtn.com/world",
    ),
    "chinadaily": (
        "https://www.chinadaily.com.cn/a/202611/26/WS6745a1b2a310f1265a1d2e3f.html",
        "https://www.chinadaily.com.cn/world/asia_pacific",
    ),
}


def test_bundled_seeds_say_what_was_verified_and_how_to_check():
    for path in sorted((bundled("seeds")).glob("*.toml")):
        head = path.read_text().split("\nid = ", 1)[0]
        if path.stem != "app":
            assert "Not verified live" in head and "2026-11-26" in head, path
            assert f"wirewatch sources probe {path.stem}" in head, path
            assert "Politeness:" in head, path


def test_extraction_hints_are_validated():
    source = parse_source_text(
        GOOD_SEED + "[extraction]\nfavor = 'precision'\nboilerplate = ['^Copyright']\nfallback = false\n",
        "seeds/x.toml",
    )
    assert source.favor == "precision" and source.boilerplate[0].pattern == "^Copyright"
    assert source.fallback is False
    assert parse_source_text(GOOD_SEED, "seeds/x.toml").fallback is None  # unset: learnt per source
    for bad, key in (
        ("fallback = 'no'", "extraction.fallback: expected true or false"),
        ("favor = 'speed'", "extraction.favor: expected balanced, precision or recall"),
        ("boilerplate = ['(']", "extraction.boilerplate[0]: bad regular expression"),
        ("strip = 1", "extraction.strip: unknown key"),
    ):
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            parse_source_text(GOOD_SEED + f"[extraction]\n{bad}\n", "seeds/x.toml")


def test_user_file_overrides_only_what_it_sets(tmp_path: Path):
    user = tmp_path / "mine.toml"
    user.write_text('[crawl]\ncontact = "desk@example.org"\n[storage]\ndatabase = "data/w.db"\n')
    config = load_config(user)
    assert config.crawl.contact == "desk@example.org"
    assert config.crawl.download_delay == 2.0  # untouched default
    assert config.database == tmp_path / "data" / "w.db"
    assert load_config(user, database=tmp_path / "other.db").database == tmp_path / "other.db"


def test_relative_paths_follow_the_file_that_sets_them(tmp_path: Path):
    user = tmp_path / "mine.toml"
    user.write_text(
        '[sources]\npaths = ["seeds", "/srv/seeds"]\n[watchlists]\ngazetteer = "places.toml"\n'
        '[log]\nfile = "log/w.log"\n[alerts]\noutbox_dir = "out"\n[alerts.smtp]\nport = 2525\n'
    )
    config = load_config(user)
    assert config.source_paths == (tmp_path / "seeds", Path("/srv/seeds"))
    assert config.gazetteer == tmp_path / "places.toml"
    assert config.log_file == tmp_path / "log" / "w.log"
    assert config.alerts.outbox_dir == str(tmp_path / "out")
    assert config.alerts.smtp.port == 2525 and config.alerts.smtp.security == "starttls"  # key by key
    # What the user's file leaves out keeps the defaults, relative to the current directory.
    assert config.database == Path("wirewatch.db")
    assert load_config(tmp_path / "mine.toml").path == user and load_config(None).path is None
    defaults = load_config(None)
    assert defaults.alerts.outbox_dir == "alerts-outbox" and defaults.log_file is None
    assert defaults.gazetteer == bundled("config") / "gazetteer.toml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[crawl]\npolitness = false\n", "crawl.politness: unknown key"),
        ("[crawl]\ndownload_delay = 'slow'\n", "crawl.download_delay: expected a number, got 'slow'"),
        ("[sources]\nmax_age = '3 weeks'\n", "sources.max_age: expected a duration"),
        ("[crawl\n", "not valid TOML"),
        ("[bogus]\n", "bogus: unknown key (expected one of: alerts, crawl, log, nlp, schedule,"),
        ("crawl = 5\n", "crawl: expected a table, got 5"),
        ("[crawl]\npolite = 'yes'\n", "crawl.polite: expected true or false, got 'yes'"),
        ("[crawl]\ndownload_delay = true\n", "crawl.download_delay: expected a number, got True"),
        ("[crawl]\nretry_times = -1\n", "crawl.retry_times: must be at least 0, got -1"),
        ("[crawl]\nworkers = 1.5\n", "crawl.workers: expected an integer, got 1.5"),
        ("[crawl]\nuser_agent = 'w/{v}'\n", "crawl.user_agent: only {version} and {contact} may be used"),
        ("[log]\nlevel = 'loud'\n", "log.level: expected DEBUG, INFO, WARNING or ERROR, got 'LOUD'"),
        ("[sources]\npaths = ['a', 1]\n", "sources.paths[1]: expected a path, got 1"),
        ("[alerts]\nroutes = [{ watchlist = 'w', to = [] }]\n", "alerts.routes[0].to: must not be empty"),
        (
            "[alerts]\nroutes = [{ watchlist = 'w', to = ['desk'] }]\n",
            "alerts.routes[0].to[0]: expected an e-mail address like 'desk@example.org', got 'desk'",
        ),
        (
            "[alerts]\nroutes = [{ watchlist = 'w', to = ['a@b.org'], tiers = ['loud'] }]\n",
            "alerts.routes[0].tiers[0]: expected core, mention or report, got 'loud'",
        ),
        (
            "[alerts]\nroutes = [{ watchlist = 'w', to = ['a@b.org'], cc = [] }]\n",
            "alerts.routes[0].cc: unknown key (expected one of: tiers, to, watchlist)",
        ),
        ("[alerts]\nroutes = [{ to = ['a@b.org'] }]\n", "alerts.routes[0].watchlist: missing (required)"),
        ("[alerts]\nsender = 'alerts'\n", "alerts.sender: expected an address like 'wirewatch <alerts@"),
        ("[alerts]\nsender = 'a@b.org, c@d.org'\n", "alerts.sender: expected an address like"),
        ("[alerts]\ntimezone = 'Mars/Olympus'\n", "alerts.timezone: unknown time zone 'Mars/Olympus'"),
        ("[alerts]\nquiet_hours = '22:00'\n", "alerts.quiet_hours: expected 'HH:MM-HH:MM', got '22:00'"),
        ("[alerts]\nquiet_hours = '25:00-07:00'\n", "alerts.quiet_hours: expected 'HH:MM-HH:MM'"),
        ("[alerts]\nretry_backoff = 300\n", "alerts.retry_backoff: expected a duration like '30s'"),
        ("[alerts]\nmax_attempts = 0\n", "alerts.max_attempts: must be at least 1, got 0"),
        ("[alerts.smtp]\nport = 70000\n", "alerts.smtp.port: must be at most 65535, got 70000"),
        (
            "[alerts.smtp]\nsecurity = 'ssl'\n",
            "alerts.smtp.security: expected starttls, tls or none, got 'ssl'",
        ),
        ("[alerts.smtp]\ntimeout = 0\n", "alerts.smtp.timeout: must be more than 0, got 0"),
        (
            "[alerts.smtp]\nhots = 'x'\n",
            "alerts.smtp.hots: unknown key (expected one of: host, password_env,",
        ),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, text: str, expected: str):
    user = tmp_path / "bad.toml"
    user.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(user)
    assert str(user) in str(err.value)
    assert expected in str(err.value)


def test_every_problem_of_the_config_is_reported_at_once(tmp_path: Path):
    user = tmp_path / "bad.toml"
    user.write_text(
        "[crawl]\nworkers = -1\nconcurrent_requests_per_domain = 0\n"
        "[alerts]\nmax_attempts = 0\n[alerts.smtp]\nport = 0\n[log]\nlevel = 'loud'\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(user)
    assert [p.split(": ")[1] for p in err.value.problems] == [
        "crawl.concurrent_requests_per_domain",
        "crawl.workers",
        "alerts.max_attempts",
        "alerts.smtp.port",
        "log.level",
    ]
    assert all(p.startswith(f"{user}: ") for p in err.value.problems)


def test_good_seed_parses():
    source = parse_source_text(GOOD_SEED, "seeds/x.toml")
    assert source.feeds == ("https://example.org/feed/",)
    assert source.is_article("https://example.org/news/1")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda s: "colour = 'red'\n" + s, "colour: unknown key"),
        (
            lambda s: s.replace("https://example.org/feed/", "ftp://example.org/feed/"),
            "feeds[0]: not an http(s) URL",
        ),
        (
            lambda s: s.replace("https://example.org/feed/", "https://evil.net/feed/"),
            "feeds[0]: host 'evil.net'",
        ),
        (
            lambda s: s.replace("^https://example\\.org/news/", "(unclosed"),
            "articles.allow[0]: bad regular expression",
        ),
        (lambda s: s.replace('id = "x"', 'id = "X Y"'), "id: expected lower-case"),
        (lambda s: "timezone = 'Mars/Olympus'\n" + s, "timezone: unknown time zone"),
        (
            lambda s: (
                s + "[[listings]]\nurl = 'https://example.org/a/'\npage_url = 'https://example.org/a/2/'\n"
            ),
            "listings[0].page_url: must contain {n}",
        ),
        (
            lambda s: s + "[[listings]]\nurl = 'https://example.org/a/'\nmax_pages = 0\n",
            "listings[0].max_pages: must be at least 1",
        ),
        (lambda s: s.replace('["example.org"]', "[]"), "allowed_domains: must not be empty"),
        (
            lambda s: "language = 'english'\n" + s,
            "language: expected an ISO 639-1 code like 'en', got 'english'",
        ),
        (lambda s: "enabled = 'yes'\n" + s, "enabled: expected true or false, got 'yes'"),
        (lambda s: "max_age = 3\n" + s, "max_age: expected a duration like '30s'"),
        (
            lambda s: s + "[politeness]\ndownload_delay = -1\n",
            "politeness.download_delay: must be at least 0, got -1",
        ),
        (
            lambda s: s + "[politeness]\nconcurrent_requests_per_domain = 5\n",
            "politeness.concurrent_requests_per_domain: must be at most 4, got 5",
        ),
        (
            lambda s: s.replace("[articles]\n", "[articles]\nonly = []\n"),
            "articles.only: unknown key (expected one of: allow, deny)",
        ),
        (
            lambda s: s.split("[articles]")[0],
            "articles.allow: missing (required): which URLs are articles (regular expressions)",
        ),
        (
            lambda s: s.replace('feeds = ["https://example.org/feed/"]', ""),
            "a source needs at least one of feeds, sitemaps or listings",
        ),
    ],
)
def test_seed_errors_name_file_and_key(change, key):
    with pytest.raises(ConfigError) as err:
        parse_source_text(change(GOOD_SEED), "seeds/x.toml")
    assert f"seeds/x.toml: {key}" in str(err.value)


def test_all_seed_problems_are_reported_at_once(tmp_path: Path):
    (tmp_path / "a.toml").write_text("bogus = 1\n" + GOOD_SEED)
    (tmp_path / "b.toml").write_text("id = 'b'\n")
    with pytest.raises(ConfigError) as err:
        load_sources((tmp_path,))
    problems = err.value.problems
    assert any("a.toml: bogus" in p for p in problems)
    assert any("b.toml: title: missing" in p for p in problems)


def test_select_by_name():
    sources = [parse_source_text(GOOD_SEED, "x.toml")]
    assert select(sources, ("x",)) == sources
    with pytest.raises(ConfigError, match="unknown source nope"):
        select(sources, ("nope",))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"name": "r", "all": ["@missing"]}, "rules[r].all[0]: unknown group '@missing'"),
        ({"name": "r", "all": ["a"], "scope": "chapter"}, "rules[r].scope: expected one of"),
        ({"name": "r", "all": ["a"], "type": "gossip"}, "rules[r].type: expected one of"),
        ({"name": "r", "all": ["a"], "color": 1}, "rules[r].color: unknown key"),
        ({"name": "r"}, "rules[r]: needs `all` or `any`"),
        ({"name": "r", "not": ["x"]}, "rules[r]: needs `all` or `any`: `not` alone"),
        ({"name": "r", "all": ["Chinese (a|"]}, "rules[r].all[0]: bad term"),
        ({"name": "r", "all": [{"entity": "PLANET"}]}, "rules[r].all[0]: unknown entity label 'PLANET'"),
        ({"name": "r", "all": ["a"], "within": 0}, "rules[r].within: expected a number of words"),
    ],
)
def test_watchlist_errors_name_file_rule_and_reason(rule, expected):
    data = {"name": "w", "tiers": {"core": 2, "mention": 1}, "groups": {"g": ["x"]}, "rules": [rule]}
    with pytest.raises(ConfigError) as err:
        parse_rules(data, "w.toml", None)
    assert f"w.toml: {expected}" in str(err.value)


def test_bundled_paths_exist():
    assert (bundled("config") / "wirewatch.toml").is_file()
    assert (bundled("seeds") / "app.toml").is_file()
