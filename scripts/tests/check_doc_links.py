"""The documentation's relative links cannot go stale: every [text](path#anchor) in README.md,
docs/*.md and handson.md names a file of the repository and, for a Markdown file, a heading of it
(GitHub's anchors: lower case, punctuation dropped, spaces to '-', repeats numbered).

Usage: python3 check_doc_links.py REPOSITORY
"""

import os
import re
import sys

HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def anchors(path):
    """The anchors GitHub gives the headings of a Markdown file."""
    seen, found = {}, set()
    for line in FENCE.sub("", open(path, encoding="utf-8").read()).splitlines():
        heading = HEADING.match(line)
        if not heading:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).strip().lower()
        anchor = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        count = seen.get(anchor, -1) + 1
        seen[anchor] = count
        found.add(f"{anchor}-{count}" if count else anchor)
    return found


def broken_links(root, document):
    """(target, why) for each relative link of `document` that does not resolve."""
    text = FENCE.sub("", open(os.path.join(root, document), encoding="utf-8").read())
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(root, os.path.dirname(document), path or os.path.basename(document)))
        if not os.path.exists(full):
            yield target, "no such file"
        elif anchor and (not full.endswith(".md") or anchor not in anchors(full)):
            yield target, "no such heading"


def main():
    root = sys.argv[1]
    documents = ["README.md", "handson.md"] + sorted(
        os.path.join("docs", name) for name in os.listdir(os.path.join(root, "docs")) if name.endswith(".md"))
    broken = [(document, target, why) for document in documents for target, why in broken_links(root, document)]
    for document, target, why in broken:
        print(f"{document}: ({target}): {why}")
    print(f"{len(documents)} documents, {len(broken)} broken links")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
