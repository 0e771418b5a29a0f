"""The documentation as a whole: every page reachable from the README, every relative link
resolving, no merge-conflict markers, and every fenced block either run by a test, compared by
one, or marked with the reason it is not (see DocBlock in tests/support.py)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import ROOT, doc_blocks, doc_pages

# written on another branch (issue: API keys); linked from the README already. Remove this
# once the page exists: the test below then checks the link like every other
NOT_YET_WRITTEN = {ROOT / "docs" / "api-keys.md"}
# moved verbatim from the README; another branch edits the text, so its blocks keep the
# README's form (no info string, no marker) and test_operating.py runs them by section
VERBATIM = ROOT / "docs" / "privacy.md"
LINK = re.compile(r"\]\((?!https?://|mailto:)([^)#\s]*)(#[^)\s]*)?\)")
# languages whose blocks are run (sh, sql, python) or shown (text); config and code excerpts
# (toml, yaml) are read by nobody's shell
KINDS = {"sh", "sql", "python", "text", "toml", "yaml"}


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lowercase, punctuation dropped, spaces as -."""
    headings = re.findall(r"^#+ (.*)$", re.sub(r"^```.*?^```", "", path.read_text(),
                                                flags=re.MULTILINE | re.DOTALL), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    linked = {(ROOT / target).resolve() for target, _ in LINK.findall(readme)}
    pages = set((ROOT / "docs").glob("*.md"))
    assert pages - linked == set()


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in doc_pages():
        for target, anchor in LINK.findall(page.read_text()):
            path = (page.parent / target).resolve() if target else page
            if path in NOT_YET_WRITTEN and not path.exists():
                continue
            if not path.exists():
                broken.append(f"{page.name}: {target}")
            elif anchor and path.suffix == ".md" and anchor[1:] not in anchors(path):
                broken.append(f"{page.name}: {target}{anchor}")
    assert broken == []


def test_no_file_has_merge_conflict_markers() -> None:
    marker = re.compile(r"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)
    tracked = [path for path in ROOT.rglob("*") if path.is_file()
               and path.suffix in {".md", ".py", ".toml", ".yml", ".sql", ".txt"}
               and not {".venv", ".git", "node_modules"} & set(path.parts)]
    assert [str(path) for path in tracked if marker.search(path.read_text(errors="replace"))] \
        == []


def test_every_block_is_run_compared_or_says_why_not() -> None:
    tests = "\n".join(path.read_text() for path in (ROOT / "tests").rglob("test_*.py"))
    unaccounted = []
    for block in doc_blocks():
        if block.path == VERBATIM and not block.lang:
            continue
        marker = block.marker
        reason = re.fullmatch(r"doc-test: not (run|compared): (.{10,})", marker)
        if block.lang not in KINDS:
            unaccounted.append(f"{block.where}: no language ({block.lang!r})")
        elif block.name:  # a test must fetch it by name
            if f'doc_block("{block.name}")' not in tests:
                unaccounted.append(f"{block.where}: no test runs {block.name}")
        elif block.lang in {"sh", "python"} and not reason and marker != "test-command":
            unaccounted.append(f"{block.where}: {block.lang} block neither run nor excused")
        elif block.lang == "text" and not reason:
            unaccounted.append(f"{block.where}: output neither compared nor excused")
        # sql blocks without a marker: test_quickstart.py runs every one; `analyst-query`
        # ones: tests/analytics/test_demo_queries.py
        elif block.lang == "sql" and marker not in {"", "analyst-query"} and not reason:
            unaccounted.append(f"{block.where}: sql block with an unknown marker {marker!r}")
    assert unaccounted == []
