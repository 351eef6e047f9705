#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that weft's documents point only at files the repository has.

In README.md, CHANGELOG.md, docs/*.md and bench/*.md: every relative link target
([text](path) and ![alt](path), without its #anchor) and every repository path written
as code (`src/...`, `tools/...`, ...) must exist, and no document may name a file that
is not in the repository as if it were (the names in NOT_HERE). Exits
non-zero and lists each problem with its file and line.
"""
import pathlib
import re
import sys

from check_report import finish

ROOT = pathlib.Path(__file__).resolve().parent.parent
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
# A path into the repository written as code: `tools/weft-trace`, `src/wait/wait.cpp:12`.
CODE_PATH = re.compile(r"`((?:include|src|tools|tests|docs|scripts|bench|examples|cmake|fuzz)/"
                       r"[\w./-]*?)(?::\d+)?`")
# Documents that live outside the repository: naming them sends readers nowhere.
NOT_HERE = re.compile(r"python-threading-guide\.txt|\bseed/|(?<![\w/.-])API\.md")


def documents():
    paths = [ROOT / "README.md", ROOT / "CHANGELOG.md"]
    paths += sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "bench").glob("*.md"))
    return [p for p in paths if p.is_file()]


def main():
    problems = []
    docs = documents()
    for doc in docs:
        rel = doc.relative_to(ROOT).as_posix()
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            for target in LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue  # a URL, or an anchor in the same page
                path = target.split("#", 1)[0]
                if not (doc.parent / path).exists():
                    problems.append(f"{rel}:{number}: links to {target}, which does not exist")
            for path in CODE_PATH.findall(line):
                if not (ROOT / path).exists():
                    problems.append(f"{rel}:{number}: names {path}, which does not exist")
            for name in NOT_HERE.findall(line):
                problems.append(f"{rel}:{number}: names {name}, which is not in the repository")
    return finish("check_docs", f"{len(docs)} documents", problems)


if __name__ == "__main__":
    sys.exit(main())
