"""LIST pages: continue tokens, remainingItemCount, the pages themselves."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from syncer_standins.kubeapi.errors import ApiError
from syncer_standins.kubeapi.paging import decode_token, encode_token, item_key, paginate


def config_maps(*names: str, namespace: str = "rec2") -> list[dict[str, Any]]:
    return [{"metadata": {"name": name, "namespace": namespace}} for name in names]


def test_token_is_kubes() -> None:
    token = encode_token(375, "/page-2\0")
    assert token == "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Mzc1LCJzdGFydCI6Ii9wYWdlLTJcdTAwMDAifQ"
    assert "=" not in token
    assert decode_token(token) == (375, "/page-2\0")


@pytest.mark.parametrize("token", ["not base64!", base64.urlsafe_b64encode(b"{}").decode(),
                                   encode_token(1, "/a").replace("eyJ2", "eyJ3")])
def test_bad_tokens_are_400(token: str) -> None:
    with pytest.raises(ApiError) as caught:
        decode_token(token)
    assert caught.value.code == 400
    assert caught.value.message.startswith("continue key is not valid")


def test_item_keys() -> None:
    obj = config_maps("a")[0]
    assert item_key(obj, across_namespaces=False) == "/a"
    assert item_key(obj, across_namespaces=True) == "/rec2/a"


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["metadata"]["name"] for item in items]


def test_pages_without_selector_count_what_remains() -> None:
    items = config_maps("a", "b", "c", "d", "e")
    pages, query = [], {"limit": "2"}
    while True:
        page = paginate(items, query, rv=7, across_namespaces=False, selected=False)
        pages.append((names(page.items), dict(page.metadata)))
        if not page.more:
            break
        query = {"limit": "2", "continue": page.metadata["continue"]}
    assert [found for found, _ in pages] == [["a", "b"], ["c", "d"], ["e"]]
    assert [m.get("remainingItemCount") for _, m in pages] == [3, 1, None]
    assert [list(m) for _, m in pages] == [
        ["resourceVersion", "continue", "remainingItemCount"],
        ["resourceVersion", "continue", "remainingItemCount"], ["resourceVersion"]]
    start = json.loads(base64.urlsafe_b64decode(pages[1][1]["continue"] + "=="))["start"]
    assert start == "/d\u0000"


def test_pages_with_a_selector_do_not_count() -> None:
    page = paginate(config_maps("a", "b", "c"), {"limit": "2"}, rv=7, across_namespaces=False,
                    selected=True)
    assert list(page.metadata) == ["resourceVersion", "continue"]


def test_later_pages_keep_the_first_pages_resource_version() -> None:
    token = encode_token(5, "/a\0")
    page = paginate(config_maps("a", "b"), {"limit": "5", "continue": token}, rv=9,
                    across_namespaces=False, selected=False)
    assert (names(page.items), page.metadata) == (["b"], {"resourceVersion": "5"})
