"""``rules/metadata.yml``: the word lists and tables of the metadata rules, read once
and validated like ``rules/clean.yml`` (:mod:`ingest.clean`): an unknown or missing
key, a duplicate key, a wrong type, a bad regex or an unknown time zone is an error
that names it. The modules of :mod:`ingest.metadata` build their constants from
:func:`metadata_rules` when imported."""

from __future__ import annotations

import functools
import re
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

Words = tuple[StrictStr, ...]  # a YAML list, in its order


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _regexes(values: Words) -> Words:
    """Each entry compiles as a regular expression (an alternative of one)."""
    for value in values:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
    return values


class PageRules(_Section):
    site_name_meta: Words
    jsonld_nested_keys: Words
    article_type_suffixes: Words
    article_types: frozenset[StrictStr]
    site_types: frozenset[StrictStr]
    jsonld_date_prefixes: Words
    second_level_domains: frozenset[StrictStr]
    umlauts: dict[StrictStr, StrictStr]

    @field_validator("umlauts")
    @classmethod
    def _letters(cls, value: dict[StrictStr, StrictStr]) -> dict[StrictStr, StrictStr]:
        if any(len(letter) != 1 for letter in value):
            raise ValueError("each key must be a single letter")
        return value


class TitleRules(_Section):
    kicker_classes: Words
    branding_classes: Words

    _check = field_validator("kicker_classes", "branding_classes")(_regexes)


class DateRules(_Section):
    published_meta: Words
    generic_meta: Words
    modified_meta: Words
    months: tuple[Words, ...] = Field(min_length=12, max_length=12)
    now_labels: Words
    published_labels: Words
    published_label_prepositions: Words

    _check = field_validator("now_labels", "published_labels",
                             "published_label_prepositions")(_regexes)

    @field_validator("published_labels")
    @classmethod
    def _lower(cls, value: Words) -> Words:
        if any(word != word.lower() for word in value):
            raise ValueError("labels are matched on lower-cased text: write them in lower case")
        return value


class ZoneRules(_Section):
    language_zones: dict[StrictStr, StrictStr]
    country_zones: dict[StrictStr, StrictStr]

    @field_validator("language_zones", "country_zones")
    @classmethod
    def _known(cls, value: dict[StrictStr, StrictStr]) -> dict[StrictStr, StrictStr]:
        for name in value.values():
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {name!r}") from None
        return value


class LabelRules(_Section):
    nouns: Words
    noun_prefixes: Words
    verbs: Words
    verb_prepositions: Words
    words: Words

    _check = field_validator("*")(_regexes)


class AuthorRules(_Section):
    author_meta: Words
    labels: LabelRules
    month_stems: Words
    date_prepositions: Words
    credits: Words
    credit_prepositions: Words
    roles: Words
    degrees: Words
    not_name_starts: Words
    not_names: frozenset[StrictStr]
    name_conjunctions: Words
    name_particles: Words
    by_line_words: Words
    by_line_lead_ins: Words

    _check = field_validator(
        "month_stems", "date_prepositions", "credits", "credit_prepositions", "roles",
        "degrees", "not_name_starts", "name_conjunctions", "name_particles")(_regexes)

    @field_validator("by_line_words", "by_line_lead_ins")
    @classmethod
    def _plain(cls, value: Words) -> Words:
        if any(not re.fullmatch(r"[a-z]+(?: [a-z]+)*", word) for word in value):
            raise ValueError("plain lower-case ASCII words, separated by one space")
        return value


class MetadataRules(_Section):
    """``rules/metadata.yml``."""

    page: PageRules
    titles: TitleRules
    dates: DateRules
    zones: ZoneRules
    authors: AuthorRules


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, but a key twice in one mapping is an error (not the last wins)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys = [loader.construct_object(key) for key, _ in node.value]
    for key in keys:
        if keys.count(key) > 1:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", node.start_mark)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def read_rules(path: Path | Traversable) -> MetadataRules:
    """A metadata rules file, validated (raises ``pydantic.ValidationError`` or
    ``yaml.YAMLError`` naming what is wrong)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader
    return MetadataRules.model_validate(data)


@functools.cache
def metadata_rules() -> MetadataRules:
    """``ingest/rules/metadata.yml``, read once."""
    return read_rules(resources.files("ingest").joinpath("rules/metadata.yml"))
