#!/usr/bin/env python3
"""Checks the include graph of the library code against the module order the README states.

The README's "Modules, lowest layer first" paragraph is the rule: modules are listed in backticks,
`<-` separates layers, and modules between two arrows share a layer. A module's library code
(src/<module>/, not its *_test.cpp, *_bench.cpp, *_fuzzer.cpp or *_testing.h) may include only
headers of its own module and the public headers (include/bucketpay/) of modules in lower
layers; another module's private header ("store/sql.h") is refused whatever its layer (the build
refuses it too: a library's include path is include/ and its own folder). A header of
include/bucketpay/ belongs to the module with a source of the same name that opens with it (X.cpp starts with "bucketpay/X.h");
OWNER_OF_HEADER names the few implemented across files.

Fails (exit 1) with one line per offending include, when the README's modules differ from the
build's (src/*/CMakeLists.txt calling bucketpay_module), or when a public header has no owner.
Usage: check_layers.py [ROOT]   (default: the checkout this script is in)
"""
import pathlib
import re
import sys

# Public headers with no source of the same name that opens with them (implemented across files).
OWNER_OF_HEADER = {
    "chain.h": "chain",
    "http_headers.h": "http",
    "http_responses.h": "http",
    "http_server.h": "http",
    "merkle_tree.h": "tree",
    "montgomery.h": "field",
    "relay.h": "relay",
    "store.h": "store",
}
# Support code for tests only: not part of the layer order.
TEST_SUPPORT_MODULES = {"testing"}
TEST_FILE = re.compile(r"(_test\.cpp|_bench\.cpp|_fuzzer\.cpp|_testing\.h)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def readme_layers(root):
    text = (root / "README.md").read_text()
    start = text.find("Modules, lowest layer first")
    if start < 0:
        sys.exit("check_layers: README.md has no 'Modules, lowest layer first' paragraph")
    paragraph = text[start:].split("\n\n", 1)[0]
    paragraph = paragraph.split(":", 1)[1]  # after "Modules, lowest layer first (...):"
    layer_of = {}
    for layer, segment in enumerate(paragraph.split("<-")):
        for module in re.findall(r"`([a-z0-9_]+)`", segment):
            layer_of[module] = layer
    return layer_of


def built_modules(root):
    modules = set()
    for cmake in (root / "src").glob("*/CMakeLists.txt"):
        if re.search(r"bucketpay_module\(\s*" + re.escape(cmake.parent.name) + r"\b", cmake.read_text()):
            modules.add(cmake.parent.name)
    return modules - TEST_SUPPORT_MODULES


def library_files(root, module):
    for path in sorted((root / "src" / module).rglob("*")):
        if path.suffix in (".h", ".cpp") and not TEST_FILE.search(path.name):
            yield path


def header_owners(root, modules):
    """The module of each public header X.h: the one with a library source X.cpp that opens with it."""
    owners = dict(OWNER_OF_HEADER)
    for module in modules:
        for path in library_files(root, module):
            first = INCLUDE.search(path.read_text()) if path.suffix == ".cpp" else None
            if first and first.group(1) == f"bucketpay/{path.stem}.h":
                owners.setdefault(f"{path.stem}.h", module)
    return owners


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    layer_of = readme_layers(root)
    modules = built_modules(root)
    errors = []
    if set(layer_of) != modules:
        missing = sorted(modules - set(layer_of))
        extra = sorted(set(layer_of) - modules)
        errors.append(f"README.md's module list differs from the build: not listed {missing}, not built {extra}")
    owners = header_owners(root, modules)
    for header in sorted(p.name for p in (root / "include" / "bucketpay").glob("*.h")):
        if header not in owners:
            errors.append(f"include/bucketpay/{header}: no module owns it (no {header[:-2]}.cpp opens with it; "
                          "name its module in OWNER_OF_HEADER of scripts/check_layers.py)")
    edges = 0
    for module in sorted(modules & set(layer_of)):
        for path in library_files(root, module):
            text = path.read_text()
            for match in INCLUDE.finditer(text):
                target = match.group(1)
                head, _, rest = target.partition("/")
                if head == "bucketpay":
                    used = owners.get(rest)
                elif head in layer_of or head in TEST_SUPPORT_MODULES:
                    used = head
                else:
                    continue  # a header of the module's own directory or of a dependency
                if used is None or used == module:
                    continue
                edges += 1
                line = text.count("\n", 0, match.start()) + 1
                where = f"{path.relative_to(root)}:{line}"
                if used in TEST_SUPPORT_MODULES:
                    errors.append(f"{where}: library code of '{module}' includes test support \"{target}\"")
                elif head != "bucketpay":
                    errors.append(f"{where}: '{module}' includes \"{target}\", a private header of '{used}' "
                                  "(modules share only include/bucketpay/)")
                elif layer_of[used] >= layer_of[module]:
                    errors.append(f"{where}: '{module}' includes \"{target}\" of '{used}', which is not in a "
                                  "lower layer (README.md, 'Modules, lowest layer first')")
    for error in errors:
        print(f"check_layers: {error}")
    if errors:
        return 1
    print(f"check_layers: {len(modules)} modules in {max(layer_of.values()) + 1} layers, "
          f"{edges} includes between modules, all downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
