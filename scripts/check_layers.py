#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks weft's layering: a file may include weft headers of its own layer or below.

Layers (docs/design.md): L0 wait, L1 parking lot, L2 threading primitives, L3 queues,
L4 executors, L5 debug/trace. The debug tools (L5) are called from every layer through
detail/hooks.hpp but are built on L0, L1 and WordLock only, so src/debug may not include
the instrumented primitives. Exits non-zero and lists each violation.
"""
import pathlib
import re
import sys

from check_report import finish

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Header (path under include/ or src/) -> layer. Order matters: first match wins.
HEADER_LAYERS = [
    (r"weft/(errors|version)\.hpp", 0),
    (r"weft/detail/(config|clock|deadline|wait|backoff|function_ref|tsan|assert|thread_safety)\.hpp", 0),
    (r"weft/detail/intrusive_list\.hpp", 0),
    (r"park/word_lock\.hpp", 0),
    (r"weft/detail/(parking_lot|hooks|bubble|keyboard_interrupt)\.hpp", 1),
    (r"weft/detail/thread_registry\.hpp", 1),
    (r"weft/detail/thread_record_ref\.hpp", 1),
    (r"park/(thread_record|bubble_slot)\.hpp", 1),
    (r"weft/detail/(timed_lockable|lock_algorithm)\.hpp", 2),
    (r"weft/detail/exception_text\.hpp", 2),
    (r"threading/.*\.hpp", 2),
    (r"weft/(lock|rlock|condition|semaphore|event|barrier|thread|timer|local|threading|testing|cancel)\.hpp", 2),
    (r"weft/detail/(queue|select)_.*\.hpp", 3),
    (r"weft/(queue|select)\.hpp", 3),
    (r"queue/.*\.hpp", 3),
    (r"weft/detail/(future|wire|process).*\.hpp", 4),
    (r"weft/(futures|process)\.hpp", 4),
    (r"process/.*\.hpp", 4),
    (r"weft/debug\.hpp", 5),
    (r"weft/dist(/.*)?\.hpp", 5),
    (r"dist/.*\.hpp", 5),
    (r"debug/.*\.hpp", 5),
    (r"weft/weft\.hpp", 6),
]

# Source folder -> layer of the code in it.
SOURCE_LAYERS = {
    "src/wait": 0,
    "src/park": 1,
    "src/threading": 2,
    "src/queue": 3,
    "src/futures": 4,
    "src/process": 4,
    "src/version.cpp": 0,
    "src/dist": 5,
}

# src/debug: may include only these (L0, L1, its own files, its public header).
DEBUG_ALLOWED = re.compile(
    r"weft/(errors|debug)\.hpp|weft/detail/(config|clock|deadline|wait|backoff|function_ref|assert|thread_safety|"
    r"parking_lot|hooks|thread_registry|thread_record_ref|keyboard_interrupt)\.hpp|park/(word_lock|thread_record)\.hpp|"
    r"debug/.*\.hpp")


def header_layer(name):
    for pattern, layer in HEADER_LAYERS:
        if re.fullmatch(pattern, name):
            return layer
    return None


def file_layer(path):
    rel = path.relative_to(ROOT).as_posix()
    if rel.startswith("include/"):
        return header_layer(rel[len("include/"):])
    for folder, layer in SOURCE_LAYERS.items():
        if rel == folder or rel.startswith(folder + "/"):
            return layer
    return None


def main():
    errors = []
    unknown = []
    files = sorted(list((ROOT / "include").rglob("*.hpp")) + list((ROOT / "src").rglob("*.[ch]pp")))
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        includes = re.findall(r'^\s*#\s*include\s+"([^"]+)"', path.read_text(), re.M)
        if rel.startswith("src/debug/"):
            for inc in includes:
                if not DEBUG_ALLOWED.fullmatch(inc):
                    errors.append(f"{rel}: the debug tools may not include {inc}")
            continue
        layer = file_layer(path)
        if layer is None:
            unknown.append(rel)
            continue
        for inc in includes:
            inc_layer = header_layer(inc)
            if inc_layer is None:
                if inc.startswith("weft/") or "/" in inc:
                    unknown.append(f"{rel} includes {inc}")
                continue
            if inc_layer > layer:
                errors.append(f"{rel} (L{layer}) includes {inc} (L{inc_layer})")
    for u in unknown:
        errors.append(f"no layer known for {u}: add it to scripts/check_layers.py")
    return finish("check_layers", f"{len(files)} files", errors)


if __name__ == "__main__":
    sys.exit(main())
