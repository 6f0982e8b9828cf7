"""The sources file: the minimal form works, mistakes get one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import load_config, parse_config
from ingest.errors import ConfigError

MINIMAL = """
settings:
  allow_private_hosts: ["127.0.0.1"]
sources:
  - name: korea-times
    url: https://example.org/rss.xml
"""


def test_minimal_form(tmp_path: Path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text(MINIMAL)
    config = load_config(path)
    assert config.settings.allow_private_hosts == ["127.0.0.1"]
    assert [s.name for s in config.sources] == ["korea-times"]
    assert config.settings.max_body_bytes == 10 * 1024 * 1024


def test_settings_block_is_optional() -> None:
    config = parse_config({"sources": [{"name": "a", "url": "http://x.org/f"}]})
    assert config.settings.allow_private_hosts == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sources": [{"name": "ok", "url": "https://x.org/"}, {"name": "bad", "url": "ftp://x"}]},
         "source 'bad' (sources[1]): key 'url': must be an absolute http(s) URL"),
        ({"sources": [{"name": "Not A Slug", "url": "https://x.org/"}]},
         "key 'name': must be a slug"),
        ({"sources": [{"name": "a"}]},
         "source 'a' (sources[0]): give exactly one of url (a feed), sitemap, site, listing or warc"),
        ({"sources": [{"name": "a", "url": "https://x.org/", "urll": 1}]},
         "source 'a' (sources[0]): key 'urll': unknown key"),
        ({"sources": [{"name": "a", "url": "https://x.org/"}, {"name": "a", "url": "https://y.org/"}]},
         "source name 'a' is used twice"),
        ({"sources": []}, "key 'sources'"),
        ({"settings": {"concurrency": 0}, "sources": [{"name": "a", "url": "https://x.org/"}]},
         "settings: key 'concurrency'"),
        ({"sources": [{"name": "a", "url": "https://x.org/", "timezone": "Mars/Olympus"}]},
         "unknown time zone 'Mars/Olympus'"),
        ({"sources": [{"name": "a", "url": "https://x.org/", "clean_off": ["no_such_rule"]}]},
         "key 'clean_off': no global cleaning rule named 'no_such_rule' (they are: "
         "source_link,"),
        ({"sources": [{"name": "a", "url": "https://x.org/", "clean_off": ["share"],
                       "clean": [{"name": "share", "pattern": "teilen"}]}]},
         "clean_off and clean both name share"),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_invalid_configs_name_the_source_and_key(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "sources.yml")
    text = str(err.value)
    assert message in text
    assert "\n" not in text
    assert text.startswith("sources.yml")


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("sources:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_example_config_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parent.parent / "sources.example.yml")
    assert len(config.sources) >= 3
    assert config.settings.allow_private_hosts == []  # real feeds: no private hosts


def test_expect_names_kinds_of_page_or_any() -> None:
    from typing import get_args

    from ingest.config import PageKind
    from ingest.pagetype import KINDS

    assert set(get_args(PageKind)) == set(KINDS)
    default = parse_config({"sources": [{"name": "a", "url": "http://x.org/f"}]})
    assert default.sources[0].expect == ["article"]
    shop = parse_config({"sources": [{"name": "a", "url": "http://x.org/f",
                                      "expect": ["article", "product"]}]})
    assert shop.sources[0].expect == ["article", "product"]
    assert parse_config({"sources": [{"name": "a", "url": "http://x.org/f", "expect": "any"}]}
                        ).sources[0].expect == "any"
    with pytest.raises(ConfigError, match=r"key 'expect': must be 'any' or a list of kinds"):
        parse_config({"sources": [{"name": "a", "url": "http://x.org/f", "expect": ["news"]}]})
