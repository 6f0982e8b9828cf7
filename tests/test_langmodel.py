"""The language model's decompressed copy (ingest.langmodel)."""

from __future__ import annotations

from pathlib import Path

import pytest
from py3langid import langid

from ingest import langmodel

TEXTS = [
    "The council voted on Tuesday to approve the budget for the harbour.",
    "Le conseil municipal a voté mardi le budget du port après un long débat.",
    "Der Stadtrat hat am Dienstag den Haushalt für den Hafen beschlossen.",
    "서울시는 화요일 항만 예산을 승인했다고 밝혔다.",
]


@pytest.fixture(scope="module")
def packaged() -> langid.LanguageIdentifier:
    return langid._load_identifier()


def test_the_copy_answers_as_the_packaged_model(
    tmp_path: Path, packaged: langid.LanguageIdentifier
) -> None:
    first = langmodel._from_copy(tmp_path)  # decompresses and keeps the copy
    copies = list(tmp_path.glob("py3langid-*.npz"))
    assert len(copies) == 1 and not list(tmp_path.glob("*.partial"))
    again = langmodel._from_copy(tmp_path)  # reads it
    for text in TEXTS:
        assert first.classify(text) == again.classify(text) == packaged.classify(text)


def test_a_damaged_copy_falls_back_to_the_library(
    tmp_path: Path, packaged: langid.LanguageIdentifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    langmodel._from_copy(tmp_path)
    copy = next(tmp_path.glob("py3langid-*.npz"))
    copy.write_bytes(copy.read_bytes()[:1000])  # truncated
    monkeypatch.setattr(langid, "IDENTIFIER", None)
    langmodel.load(tmp_path)
    assert langid.IDENTIFIER is not None
    assert [langid.classify(t) for t in TEXTS] == [packaged.classify(t) for t in TEXTS]


def test_an_unwritable_home_costs_only_the_speed(
    tmp_path: Path, packaged: langid.LanguageIdentifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(langid, "IDENTIFIER", None)
    langmodel.load(blocked / "cache")
    assert langid.classify(TEXTS[1]) == packaged.classify(TEXTS[1])
