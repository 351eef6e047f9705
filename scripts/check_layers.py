#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks weft's layering: a file may include only headers of its own layer and of the
layers that layer links (directly or through another layer).

The layers are the weft_layer(...) targets of CMakeLists.txt (docs/design.md, "Layers"): each
lists the layers it links (LINKS), its folders of src/ (FOLDERS: their .cpp files are its
code, their .hpp files its private headers) and its public headers (HEADERS, under
include/weft/). The build enforces the same rules (a layer compiles against its own headers
and those of the layers it links, and links alone with them: cmake/weft_layers.cmake); this
script checks every file at once, before a build, including headers no source of their
layer includes and relative includes, which bypass the include directories. It also checks
the rules of the structure itself: the layers form a chain in which each links only layers
below it, and the debug tools are built on the wait layer and the parking lot only.
Exits non-zero and lists each violation.
"""
import pathlib
import re
import sys

from check_report import finish

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Headers under include/weft/ outside the layers: the umbrella header sees every layer;
# weft::dist (src/dist, weft/dist.hpp) is a separate library built on all of them.
TOP = "top"
OUTSIDE_HEADERS = {"weft.hpp": TOP, "dist.hpp": TOP}
OUTSIDE_FOLDERS = {"dist": TOP}

# The debug tools' layer and the only layers it may link.
DEBUG_LAYER = "weft_l5_debug"
DEBUG_MAY_LINK = {"weft_l0_wait", "weft_l1_park"}


def parse_layers():
    """The weft_layer(...) calls of CMakeLists.txt, in order: name -> dict of lists."""
    text = (ROOT / "CMakeLists.txt").read_text()
    text = re.sub(r"#[^\n]*", "", text)
    layers = {}
    for name, body in re.findall(r"\bweft_layer\((\w+)([^)]*)\)", text):
        fields = {"LINKS": [], "FOLDERS": [], "SOURCES": [], "HEADERS": []}
        key = None
        for token in body.split():
            if token in fields:
                key = token
            elif key is None:
                raise SystemExit(f"check_layers: weft_layer({name}): {token} before a keyword")
            else:
                fields[key].append(token)
        layers[name] = fields
    return layers


def closures(layers):
    """name -> the set of layers it may use (itself and everything it links, transitively)."""
    result = {}
    for name, fields in layers.items():  # in order: a layer links only earlier ones
        seen = {name}
        for lower in fields["LINKS"]:
            seen |= result.get(lower, set())
        result[name] = seen
    return result


def main():
    layers = parse_layers()
    errors = []
    if not layers:
        return finish("check_layers", "no weft_layer() in CMakeLists.txt", ["no layers found"])

    order = list(layers)
    for name, fields in layers.items():
        for lower in fields["LINKS"]:
            if lower not in layers:
                errors.append(f"{name} links {lower}, which is not a layer")
            elif order.index(lower) >= order.index(name):
                errors.append(f"{name} links {lower}, which is not below it")
    allowed = closures(layers)
    if DEBUG_LAYER in allowed and not allowed[DEBUG_LAYER] - {DEBUG_LAYER} <= DEBUG_MAY_LINK:
        extra = sorted(allowed[DEBUG_LAYER] - {DEBUG_LAYER} - DEBUG_MAY_LINK)
        errors.append(f"{DEBUG_LAYER} links {', '.join(extra)}: the debug tools are built on "
                      f"{' and '.join(sorted(DEBUG_MAY_LINK))} only")

    # Where each file belongs, and the include name each header is reached by.
    owner = {}  # path relative to ROOT -> layer
    include_names = {}  # include name ("weft/lock.hpp", "park/word_lock.hpp") -> layer
    for name, fields in layers.items():
        for header in fields["HEADERS"]:
            include_names["weft/" + header] = name
            owner["include/weft/" + header] = name
        for folder in fields["FOLDERS"]:
            for path in sorted((ROOT / "src" / folder).glob("*.[ch]pp")):
                rel = path.relative_to(ROOT).as_posix()
                owner[rel] = name
                if path.suffix == ".hpp":
                    include_names[f"{folder}/{path.name}"] = name
        for source in fields["SOURCES"]:
            owner[source] = name
    for header, layer in OUTSIDE_HEADERS.items():
        include_names["weft/" + header] = layer
        owner["include/weft/" + header] = layer
    for folder, layer in OUTSIDE_FOLDERS.items():
        for path in sorted((ROOT / "src" / folder).glob("*.[ch]pp")):
            owner[path.relative_to(ROOT).as_posix()] = layer
            if path.suffix == ".hpp":
                include_names[f"{folder}/{path.name}"] = layer
    allowed[TOP] = set(layers) | {TOP}

    files = sorted(list((ROOT / "include").rglob("*.hpp")) + list((ROOT / "src").rglob("*.[ch]pp")))
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        layer = owner.get(rel)
        if layer is None:
            errors.append(f"{rel} belongs to no layer: list it in a weft_layer() of CMakeLists.txt")
            continue
        for inc in re.findall(r'^\s*#\s*include\s+"([^"]+)"', path.read_text(), re.M):
            # As the compiler does: the including file's folder first, then the layers'.
            beside = (path.parent / inc).resolve()
            if beside.is_file():
                target = owner.get(beside.relative_to(ROOT).as_posix())
                inc_name = beside.relative_to(ROOT).as_posix()
            else:
                target = include_names.get(inc)
                inc_name = inc
            if target is None:
                errors.append(f"{rel} includes {inc}, which belongs to no layer")
            elif target not in allowed[layer]:
                errors.append(f"{rel} ({layer}) includes {inc_name} ({target}), "
                              f"a layer {layer} does not link")
    summary = f"{len(files)} files in {len(layers)} layers ({' < '.join(order)})"
    return finish("check_layers", summary, errors)


if __name__ == "__main__":
    sys.exit(main())
