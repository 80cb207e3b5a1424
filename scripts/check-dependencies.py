#!/usr/bin/env python3
"""Checks what the workspace is built from, as `cargo metadata` (all features, every platform)
lists it: every crate comes from crates.io or is a workspace member; its SPDX license expression
is satisfied by the permissive licenses below (the services ship as images people copy); no crate
asks for a wildcard version; nothing is OpenSSL (the binaries run on distroless base-nossl).

This is what cargo-deny's licenses, bans and sources checks did for us, without its 170 s source
install on a fresh CI machine (docs/testing.md, "Times").
Usage: scripts/check-dependencies.py [--dry-run]
"""

import json
import re
import subprocess
import sys

ALLOWED_LICENSES = {
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-3-Clause",
    "CDLA-Permissive-2.0",
    "ISC",
    "MIT",
    # borrow-or-share, through jsonschema (tests only): MIT without the attribution clause.
    "MIT-0",
    "Unicode-3.0",
    "Zlib",
}
BANNED = {"openssl", "openssl-sys", "native-tls"}
CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"
METADATA = ["cargo", "metadata", "--locked", "--format-version", "1", "--all-features"]
TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9.+-]+)")


def satisfied(expression):
    """Whether an SPDX expression (OR, AND, WITH, parentheses; crates.io's old `/` as OR) can be
    met with the allowed licenses alone."""
    tokens = TOKEN.findall(expression.replace("/", " OR "))
    if "".join(tokens) != re.sub(r"\s+", "", expression.replace("/", " OR ")):
        raise ValueError(f"not an SPDX expression: {expression!r}")
    position = 0

    def take(expected=None):
        nonlocal position
        if position == len(tokens) or (expected and tokens[position] != expected):
            raise ValueError(f"not an SPDX expression: {expression!r}")
        position += 1
        return tokens[position - 1]

    def peek():
        return tokens[position] if position < len(tokens) else None

    def either():
        met = both()
        while peek() == "OR":
            take()
            met = both() or met
        return met

    def both():
        met = one()
        while peek() == "AND":
            take()
            met = one() and met
        return met

    def one():
        if peek() == "(":
            take()
            met = either()
            take(")")
            return met
        license = take()
        if peek() == "WITH":
            take()
            license = f"{license} WITH {take()}"
        return license in ALLOWED_LICENSES

    met = either()
    if position != len(tokens):
        raise ValueError(f"not an SPDX expression: {expression!r}")
    return met


def problems(metadata):
    """One line per crate that breaks a rule."""
    members = set(metadata["workspace_members"])
    for package in metadata["packages"]:
        name = f"{package['name']} {package['version']}"
        if package["id"] not in members and package["source"] != CRATES_IO:
            yield f"{name}: from {package['source']}, not crates.io"
        license = package["license"]
        if license is None:
            yield f"{name}: no SPDX license expression (license-file only)"
        else:
            try:
                if not satisfied(license):
                    yield f"{name}: {license} is not met by the allowed licenses"
            except ValueError as error:
                yield f"{name}: {error}"
        if package["name"] in BANNED:
            yield f"{name}: OpenSSL, which the runtime image does not have (see cargo tree -i {package['name']})"
        for dependency in package["dependencies"]:
            if dependency["req"] == "*" and dependency.get("path") is None:
                yield f"{name}: wildcard version of {dependency['name']}"


def main():
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if sys.argv[1:] == ["--dry-run"]:
        print(" ".join(METADATA))
        return 0
    if sys.argv[1:]:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    metadata = json.loads(subprocess.run(METADATA, check=True, capture_output=True, text=True).stdout)
    found = list(problems(metadata))
    for line in found:
        print(line, file=sys.stderr)
    if found:
        return 1
    print(f"{len(metadata['packages'])} crates: crates.io or the workspace, permissive licenses, no wildcards, no OpenSSL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
