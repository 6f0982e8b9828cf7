"""Remove what is not the article from extracted text, by rules kept as data.

trafilatura's text can still hold page furniture: an aggregator's template
("Source link : ...", "Publish date : ..."), navigation ("MOST POPULAR", "Back To
Top"), hashtag lines, photo captions printed twice, dates an earlier scraper glued
to a paragraph ("... sectors. date2024-07-01"). :func:`clean_text` removes them in
one pass over the lines and reports what it removed and which dates it found, so
that a date stated only in the text can still become ``published_at``.

The rules are data: ``rules/clean.yml`` for every source, plus a source's
``clean:`` list of :class:`CleanRule` (a source rule named like a global one
replaces it); a source's ``clean_off:`` names global rules it does without. A
rule is a regular expression, case-insensitive, matched against one stripped line:

- ``where: line`` (default): the whole line must match; the line goes.
- ``where: start`` / ``where: end``: the match is cut from the start / end of the
  line and the rest stays (a line left empty goes).

A group ``(?P<date>...)`` reports what it captured as a :class:`DateCandidate`.
``only_if_rare`` limits a rule to texts in which a character class is rare: a
stray Korean menu item in an English article, not a heading of a Korean one.

Two passes are structural: a line of at least ``repeat_min_chars`` that repeats
the line before it (a photo caption printed twice) goes; and at the end of the
text, short unknown lines between removed lines ("LATEST NEWS / leadersclub /
subscribe") go with them. Rules match whole lines (or their very start or end) on purpose: a line
that *is* "MOST POPULAR" is navigation, a sentence containing "popular" is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DATE_GROUP = "(?P<date>"
# A line ending like this is a sentence, never a menu item.
_SENTENCE_END = frozenset(".!?:;\"”’)»")
_MAX_TAIL_CHARS = 40
_MAX_CUTS = 3  # start/end cuts per line: a date and a credit at most, in practice


class CleanRule(BaseModel):
    """One cleaning rule: an entry of ``rules/clean.yml`` or of a source's ``clean:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="reported with every removal; a lower-case slug")
    pattern: str = Field(
        description="regular expression, case-insensitive; (?-i:...) for a case-sensitive part"
    )
    where: Literal["line", "start", "end"] = Field(
        default="line", description="line: the whole line goes; start/end: the match is cut"
    )
    date_format: str | None = Field(
        default=None, description="strptime format of the (?P<date>...) group; default ISO 8601"
    )
    only_if_rare: str | None = Field(
        default=None,
        description="a character class; the rule applies only to texts where such characters "
        "are fewer than rare_share of all",
    )

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be a slug: lower-case letters, digits, '-' or '_' (max 64)")
        return value

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        # Compiled as it will be: inside a group of an alternation with other rules.
        try:
            compiled = re.compile(f"(?P<r0>{value})", re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"not a usable regular expression: {exc}") from None
        if set(compiled.groupindex) - {"r0", "date"} or "(?P=date)" in value:
            raise ValueError("the only named group allowed is (?P<date>...), not referenced")
        return value

    @field_validator("only_if_rare")
    @classmethod
    def _char_class(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a usable regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _format_needs_date(self) -> CleanRule:
        if self.date_format and not self.has_date:
            raise ValueError("date_format needs a (?P<date>...) group in the pattern")
        return self

    @property
    def has_date(self) -> bool:
        return _DATE_GROUP in self.pattern


class _RulesFile(BaseModel):
    """``rules/clean.yml``."""

    model_config = ConfigDict(extra="forbid")

    repeat_min_chars: int = Field(ge=1)
    tail_max_words: int = Field(ge=0)
    rare_share: float = Field(gt=0, le=1)
    rules: list[CleanRule]

    @model_validator(mode="after")
    def _unique_names(self) -> _RulesFile:
        names = [rule.name for rule in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("rule names must be unique")
        return self


@dataclass(frozen=True, slots=True)
class DateCandidate:
    """A date the text stated, and the rule that found it."""

    rule: str
    raw: str
    value: datetime | None  # as written (naive unless it had an offset); None if unreadable


@dataclass(slots=True)
class Cleaned:
    text: str
    removed: list[tuple[str, str]]  # (rule name, what was removed)
    dates: list[DateCandidate]

    def published_at(self, zone: tzinfo) -> datetime | None:
        """The date the text states when it states exactly one (naive values are in
        ``zone``): a list page with a date per item states several and gets none."""
        values = {d.value if d.value.tzinfo else d.value.replace(tzinfo=zone)
                  for d in self.dates if d.value is not None}
        return values.pop() if len(values) == 1 else None


@dataclass(frozen=True, slots=True)
class _Matcher:
    """The rules of one kind. Whole-line and start rules are one alternation (a line
    costs one regex call); end rules are searched one by one, because a search for
    an alternation tries every position of the line while a search for a single
    pattern that begins with a literal skips to its candidates; conditional rules
    are apart too."""

    combined: re.Pattern[str] | None
    plain: tuple[CleanRule, ...]  # rule i of the alternation is group r{i}, its date d{i}
    single: tuple[tuple[CleanRule, re.Pattern[str]], ...]
    anchored: bool  # match at the start of the line, or search

    def find(self, line: str, rare: Callable[[str], bool]) -> tuple[CleanRule, re.Match[str],
                                                                     str | None] | None:
        """The first rule that applies to ``line``, its match and its date text."""
        if self.combined is not None:
            m = self._run(self.combined, line)
            if m is not None and m.lastgroup is not None:
                index = int(m.lastgroup[1:])
                rule = self.plain[index]
                return rule, m, m.group(f"d{index}") if rule.has_date else None
        for rule, pattern in self.single:
            if rule.only_if_rare is None or rare(rule.only_if_rare):
                m = self._run(pattern, line)
                if m is not None:
                    return rule, m, m.group("d0") if rule.has_date else None
        return None

    def _run(self, pattern: re.Pattern[str], line: str) -> re.Match[str] | None:
        m = pattern.match(line) if self.anchored else pattern.search(line)
        return m if m is not None and m.end() > m.start() else None


@dataclass(frozen=True, slots=True)
class CleanRules:
    """Compiled rules; build with :func:`load_rules`."""

    rules: tuple[CleanRule, ...]
    repeat_min_chars: int
    tail_max_words: int
    rare_share: float
    line: _Matcher
    start: _Matcher
    end: _Matcher


@cache
def _global_file() -> _RulesFile:
    text = resources.files("ingest").joinpath("rules/clean.yml").read_text(encoding="utf-8")
    return _RulesFile.model_validate(yaml.safe_load(text))


def global_rule_names() -> list[str]:
    """The names of the rules in ``rules/clean.yml``, in file order."""
    return [rule.name for rule in _global_file().rules]


def load_rules(extra: Sequence[CleanRule] | None = None, off: Sequence[str] = ()) -> CleanRules:
    """The global rules but those named in ``off``, plus a source's; a source rule named
    like a global one replaces it. Compiled once per distinct rule set (sources call
    this for every page)."""
    base = _global_file()
    merged = {rule.name: rule for rule in base.rules if rule.name not in off}
    merged.update((rule.name, rule) for rule in extra or ())
    return _compile(tuple(merged.values()), base.repeat_min_chars, base.tail_max_words,
                    base.rare_share)


@lru_cache(maxsize=256)
def _compile(rules: tuple[CleanRule, ...], repeat_min_chars: int, tail_max_words: int,
             rare_share: float) -> CleanRules:
    return CleanRules(
        rules=rules,
        repeat_min_chars=repeat_min_chars,
        tail_max_words=tail_max_words,
        rare_share=rare_share,
        line=_matcher([r for r in rules if r.where == "line"], "(?:{})\\Z", anchored=True),
        start=_matcher([r for r in rules if r.where == "start"], "(?:{})\\s*", anchored=True),
        end=_matcher([r for r in rules if r.where == "end"], "(?:{})\\s*\\Z", anchored=False),
    )


def _matcher(rules: list[CleanRule], frame: str, *, anchored: bool) -> _Matcher:
    plain = tuple(r for r in rules if anchored and r.only_if_rare is None)
    alternation = "|".join(_group(rule, i) for i, rule in enumerate(plain))
    return _Matcher(
        combined=re.compile(frame.format(alternation), re.IGNORECASE) if plain else None,
        plain=plain,
        single=tuple(
            (r, re.compile(frame.format(_group(r, 0)), re.IGNORECASE))
            for r in rules if r not in plain
        ),
        anchored=anchored,
    )


def _group(rule: CleanRule, index: int) -> str:
    return f"(?P<r{index}>{rule.pattern.replace(_DATE_GROUP, f'(?P<d{index}>')})"


def parse_date(raw: str, date_format: str | None = None) -> datetime | None:
    """``raw`` read with ``date_format`` (strptime) or as ISO 8601; None when it is not
    a date (a candidate that cannot be read is still reported)."""
    raw = raw.strip()
    try:
        return datetime.strptime(raw, date_format) if date_format else datetime.fromisoformat(raw)
    except ValueError:
        return None


def clean_text(text: str, rules: CleanRules) -> Cleaned:
    """``text`` without the lines the rules remove; unchanged (the same string) when
    none applies."""
    run = _Run(text, rules)
    lines = [run.line(raw) for raw in text.split("\n")]
    _drop_trailing_navigation(lines, rules.tail_max_words, run.removed)
    if not run.removed:
        return Cleaned(text, [], [])
    return Cleaned(_join(lines), run.removed, run.dates)


@dataclass(slots=True)
class _Run:
    """The state of one :func:`clean_text` call."""

    text: str
    rules: CleanRules
    removed: list[tuple[str, str]] = field(default_factory=list)
    dates: list[DateCandidate] = field(default_factory=list)
    previous: str = ""  # the last non-blank line kept
    shares: dict[str, bool] = field(default_factory=dict)

    def line(self, raw: str) -> str | None:
        """The line as it stays, or None when it goes."""
        stripped = raw.strip()
        if not stripped:
            return raw
        hit = self.rules.line.find(stripped, self.rare)
        if hit is not None:
            self._note(hit[0], stripped, hit[2])
            return None
        kept = self._cut(stripped)
        if not kept:
            return None
        if kept == self.previous and len(kept) >= self.rules.repeat_min_chars:
            self.removed.append(("repeated", kept))
            return None
        self.previous = kept
        return raw if kept == stripped else kept

    def _cut(self, line: str) -> str:
        """``line`` without what the start and end rules cut off it."""
        for _ in range(_MAX_CUTS):
            hit = self.rules.start.find(line, self.rare)
            if hit is None:
                break
            self._note(hit[0], hit[1].group(0).strip(), hit[2])
            line = line[hit[1].end():]
        for _ in range(_MAX_CUTS):
            hit = self.rules.end.find(line, self.rare)
            if hit is None:
                break
            self._note(hit[0], hit[1].group(0).strip(), hit[2])
            line = line[:hit[1].start()]
        return line.strip()

    def _note(self, rule: CleanRule, removed: str, date: str | None) -> None:
        self.removed.append((rule.name, removed))
        if date is not None:
            self.dates.append(DateCandidate(rule.name, date, parse_date(date, rule.date_format)))

    def rare(self, chars: str) -> bool:
        """Whether characters of the class ``chars`` are rare in the whole text
        (computed once per class, and only when a conditional rule is tried)."""
        if chars not in self.shares:
            count = len(re.findall(chars, self.text))
            self.shares[chars] = count < self.rules.rare_share * len(self.text)
        return self.shares[chars]


def _drop_trailing_navigation(lines: list[str | None], max_words: int,
                              removed: list[tuple[str, str]]) -> None:
    """Short unknown lines between removed lines at the end of the text go too: a
    menu's unknown items ("leadersclub") sit among known ones ("subscribe"). Lines
    before the first or after the last removed line stay ("Apples / Pears / Exit
    mobile version" keeps the list)."""
    start = len(lines)
    while start > 0 and _menu_like(lines[start - 1], max_words):
        start -= 1
    gone = [i for i in range(start, len(lines)) if lines[i] is None]
    if len(gone) < 2:
        return
    for i in range(gone[0] + 1, gone[-1]):
        line = lines[i]
        if line is not None and line.strip():
            removed.append(("navigation", line.strip()))
            lines[i] = None


def _menu_like(line: str | None, max_words: int) -> bool:
    if line is None:
        return True
    line = line.strip()
    return not line or (
        len(line) <= _MAX_TAIL_CHARS
        and len(line.split()) <= max_words
        and line[-1] not in _SENTENCE_END
    )


def _join(lines: list[str | None]) -> str:
    """The kept lines; runs of blank lines that removals leave become one."""
    out: list[str] = []
    for line in lines:
        if line is None:
            continue
        if line.strip() or (out and out[-1].strip()):
            out.append(line)
    return "\n".join(out).strip()
