"""A query string that is not UTF-8 is the client's error: 400 with a message, never a 500."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/", "/search", "/institutions/pns", "/iiif/collection"])
def test_pages_answer_400(testapp, consortium, path: str) -> None:
    response = testapp.get(f"{path}?q=%FF&lang=ms", status=400)
    assert "not valid UTF-8" in response.text


def test_api_answers_400_in_json(testapp, consortium) -> None:
    response = testapp.get("/api/items?after=%C3%28", status=400)
    assert response.json == {"error": "the query string is not valid UTF-8"}


def test_oai_answers_bad_argument(testapp, consortium) -> None:
    response = testapp.get("/oai?verb=Identify&x=%FF", status=200)
    assert 'code="badArgument"' in response.text
