"""handson.md's code excerpts cannot drift from the code: every ```rust block under a caption
*`PATH`（抜粋…）* must appear, line for line, in that file of the repository.

Usage: python3 check_excerpts.py HANDSON.md REPOSITORY
"""

import os
import re
import sys

CAPTION = re.compile(r"\*`([^`]+)`（抜粋[^）]*）\*")


def excerpts(markdown):
    """(line number, path, excerpt text) for each captioned ```rust block."""
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        caption = CAPTION.fullmatch(line.strip())
        if caption and i + 1 < len(lines) and lines[i + 1].strip() == "```rust":
            end = lines.index("```", i + 2)
            yield i + 1, caption.group(1), "\n".join(lines[i + 2:end]) + "\n"


def main():
    markdown = open(sys.argv[1], encoding="utf-8").read()
    found, stale = 0, []
    for number, path, text in excerpts(markdown):
        found += 1
        source = open(os.path.join(sys.argv[2], path), encoding="utf-8").read()
        if text not in source:
            stale.append(f"handson.md:{number}: the excerpt of {path} is not in that file any more")
    if stale:
        sys.exit("\n".join(stale))
    if found < 4:
        sys.exit(f"only {found} captioned excerpts found in handson.md: is the caption format intact?")
    print(f"all {found} code excerpts of handson.md are in their files")


main()
