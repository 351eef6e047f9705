#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that the code examples of weft's documents are code that is compiled and run.

In README.md and docs/*.md, a fenced code block preceded (on the line before its fence)
by the comment `<!-- example: PATH -->` must appear in the repository file PATH (a test or
an example built by CMake): its lines, without their leading and trailing blanks, must be
consecutive lines of PATH, compared the same way. Exits non-zero and lists each block that
does not, with its document and line.
"""
import pathlib
import re
import sys

from check_report import finish

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARK = re.compile(r"^<!-- example: (\S+) -->$")


def documents():
    paths = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
    return [p for p in paths if p.is_file()]


def blocks(lines):
    """Yields (line number of the fence, path named by the mark, the block's lines)."""
    for i, line in enumerate(lines):
        mark = MARK.match(line.strip())
        if not mark or i + 1 >= len(lines) or not lines[i + 1].lstrip().startswith("```"):
            continue
        body = []
        for line2 in lines[i + 2:]:
            if line2.lstrip().startswith("```"):
                break
            body.append(line2)
        yield i + 2, mark.group(1), body


def contains(haystack, needle):
    needle = [line.strip() for line in needle if line.strip()]
    haystack = [line.strip() for line in haystack if line.strip()]
    return any(haystack[i:i + len(needle)] == needle
               for i in range(len(haystack) - len(needle) + 1))


def main():
    problems = []
    count = 0
    for doc in documents():
        rel = doc.relative_to(ROOT).as_posix()
        for number, path, body in blocks(doc.read_text().splitlines()):
            count += 1
            source = ROOT / path
            if not source.is_file():
                problems.append(f"{rel}:{number}: the example's file {path} does not exist")
            elif not contains(source.read_text().splitlines(), body):
                problems.append(f"{rel}:{number}: this example is not in {path} as written")
    return finish("check_doc_examples", f"{count} marked examples", problems)


if __name__ == "__main__":
    sys.exit(main())
