"""The Python examples of docs/fake-api.md, run as written, in one namespace (the second
continues the first, as a reader's session would)."""

from __future__ import annotations

from tests.support import doc_block


def test_the_fake_api_examples_run() -> None:
    namespace: dict = {}
    exec(doc_block("fake-api").text, namespace)
    assert namespace["fake"].log.select(path=r"/messages$") == []  # stopped: nothing asked
    exec(doc_block("fake-api-real-world").text, namespace)
    account = namespace["account"]
    assert account.real_world.no_cursor and account.real_world.nul_in_text
