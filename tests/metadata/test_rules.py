"""``rules/metadata.yml``: the metadata rules' word lists and tables load and validate,
and a mistake in the file is an error that names it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from conftest import ROOT
from ingest.metadata.rules import MetadataRules, metadata_rules, read_rules

RULES_FILE = ROOT / "ingest" / "rules" / "metadata.yml"


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    """The rules file with ``old`` (which must be in it once) replaced by ``new``."""
    text = RULES_FILE.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "metadata.yml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_the_rules_load_and_validate() -> None:
    rules = metadata_rules()
    assert isinstance(rules, MetadataRules)
    assert rules is metadata_rules()  # read once
    assert read_rules(RULES_FILE) == rules
    assert len(rules.dates.months) == 12
    assert rules.dates.published_meta[0] == "article:published_time"  # lists keep their order
    assert rules.zones.country_zones["de"] == "Europe/Berlin"
    assert "on" in rules.dates.published_label_prepositions  # quoted: not YAML's true
    assert "y" in rules.authors.name_conjunctions


def test_an_unknown_key_is_rejected(tmp_path: Path) -> None:
    path = _copy(tmp_path, "  kicker_classes:", "  kicker_clases:")
    with pytest.raises(ValidationError) as error:
        read_rules(path)
    message = str(error.value)
    assert "titles.kicker_clases" in message and "Extra inputs are not permitted" in message
    assert "titles.kicker_classes" in message and "Field required" in message


def test_an_unknown_section_is_rejected(tmp_path: Path) -> None:
    path = _copy(tmp_path, "\nzones:\n", "\nzone:\n")
    with pytest.raises(ValidationError, match=r"zone\n.*Extra inputs are not permitted"):
        read_rules(path)


def test_a_duplicate_key_is_rejected(tmp_path: Path) -> None:
    path = _copy(tmp_path, "    gb: Europe/London\n", "    gb: Europe/London\n    uk: Europe/Paris\n")
    with pytest.raises(yaml.YAMLError, match="duplicate key 'uk'"):
        read_rules(path)


def test_an_unquoted_yaml_boolean_is_rejected(tmp_path: Path) -> None:
    path = _copy(tmp_path, 'name_conjunctions: [and, und, et, "y"]',
                 "name_conjunctions: [and, und, et, yes]")
    with pytest.raises(ValidationError, match=r"authors.name_conjunctions.3\n.*valid string"):
        read_rules(path)


def test_a_bad_regex_and_an_unknown_zone_are_rejected(tmp_path: Path) -> None:
    path = _copy(tmp_path, '[author, "autor(?:in)?"', '[author, "autor(?:in"')
    with pytest.raises(ValidationError, match=r"authors.labels.nouns\n.*not a regular expression"):
        read_rules(path)
    path = _copy(tmp_path, "de: Europe/Berlin\n    at:", "de: Europe/Berln\n    at:")
    with pytest.raises(ValidationError, match="unknown time zone 'Europe/Berln'"):
        read_rules(path)


def test_twelve_months(tmp_path: Path) -> None:
    path = _copy(tmp_path, "    - [nov, november, novembre, noviembre, novembro]\n", "")
    with pytest.raises(ValidationError, match=r"dates.months\n.*at least 12 items"):
        read_rules(path)
