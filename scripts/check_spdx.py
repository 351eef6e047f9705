#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks that every source file starts with weft's licence line.

Source files: *.cpp, *.hpp, *.h, CMakeLists.txt, *.cmake, *.sh, *.py, *.in, and any other
file that starts with a #! line. Each must have `SPDX-License-Identifier: Apache-2.0` in
a comment on its first line, or on its second after a #! line. Files are those git knows
(tracked, or untracked and not ignored); outside a git checkout, every file below the
root except build directories. Exits non-zero and lists the files without it.

    scripts/check_spdx.py          check
    scripts/check_spdx.py --fix    add the line where it is missing (// or # comment)
"""
import pathlib
import subprocess
import sys

from check_report import finish

ROOT = pathlib.Path(__file__).resolve().parent.parent
IDENTIFIER = "SPDX-License-Identifier: Apache-2.0"
SUFFIXES = {".cpp", ".hpp", ".h", ".cmake", ".sh", ".py", ".in"}
NAMES = {"CMakeLists.txt"}
SLASH_COMMENT = {".cpp", ".hpp", ".h"}


def candidate_files():
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
        paths = [ROOT / p for p in listed if p]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*")
                 if not any(part.startswith(("build", ".git")) for part in p.relative_to(ROOT).parts)]
    return sorted(p for p in paths if p.is_file() and not p.is_symlink())


def head(path):
    with open(path, "rb") as f:
        return f.read(4096)


def is_source(path):
    if path.name in NAMES or path.suffix in SUFFIXES:
        return True
    return head(path).startswith(b"#!")


def has_identifier(path):
    lines = head(path).decode("utf-8", "replace").splitlines()[:2]
    if lines and lines[0].startswith("#!"):
        lines = lines[1:2]
    else:
        lines = lines[:1]
    return any(IDENTIFIER in line for line in lines)


def comment_for(path):
    # x.hpp.in is C++ too: judge a template by the suffix it will have.
    suffix = pathlib.Path(path.stem).suffix if path.suffix == ".in" else path.suffix
    return "// " if suffix in SLASH_COMMENT else "# "


def add_identifier(path):
    text = path.read_text()
    line = comment_for(path) + IDENTIFIER + "\n"
    if text.startswith("#!"):
        first, _, rest = text.partition("\n")
        path.write_text(first + "\n" + line + rest)
    else:
        path.write_text(line + text)


def main():
    files = [p for p in candidate_files() if is_source(p)]
    missing = [p for p in files if not has_identifier(p)]
    if "--fix" in sys.argv[1:]:
        for path in missing:
            add_identifier(path)
            print(f"added the licence line: {path.relative_to(ROOT).as_posix()}")
        return 0
    return finish("check_spdx", f"{len(files)} source files", [
        f"{p.relative_to(ROOT).as_posix()}: no '{IDENTIFIER}' line at the top "
        "(scripts/check_spdx.py --fix adds it)" for p in missing])

if __name__ == "__main__":
    sys.exit(main())
