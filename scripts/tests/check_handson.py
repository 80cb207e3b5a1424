"""handson.md cannot drift from the scripts: every `gcloud` and `curl` command in its ```bash
blocks (continuation lines joined; a command inside `VAR=$(...)` too) must be a command that one of
the step scripts runs, as their --dry-run transcript prints it. Words are compared after shell
parsing, with $PROJECT_ID and $REGION expanded to the values the transcript was made with;
$SERVICE_URL, $PROJECT_NUMBER and $(gcloud auth print-identity-token) stay as written, as the
dry runs print them.

Usage: python3 check_handson.py HANDSON.md TRANSCRIPT
"""

import re
import shlex
import sys

VALUES = {"PROJECT_ID": "my-project", "REGION": "us-central1"}


def expand(text):
    for name, value in VALUES.items():
        text = re.sub(r"\$\{" + name + r"\}|\$" + name + r"\b", value, text)
    return text


def words(line):
    return tuple(shlex.split(line, posix=True))


def commands(markdown):
    in_block = False
    pending = ""
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.startswith("```"):
            in_block = line.strip() == "```bash"
            pending = ""
            continue
        if not in_block:
            continue
        line = pending + line.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        inner = re.fullmatch(r"[A-Z_]+=\$\((.*)\)", line)
        if inner:
            line = inner.group(1)
        if line.startswith(("gcloud ", "curl ")):
            yield number, line


def main():
    markdown = open(sys.argv[1], encoding="utf-8").read()
    transcript = {words(line) for line in open(sys.argv[2], encoding="utf-8") if line.strip()}
    checked, missing = 0, []
    for number, command in commands(markdown):
        checked += 1
        if words(expand(command)) not in transcript:
            missing.append(f"handson.md:{number}: {command}")
    if missing:
        print("commands in handson.md that no script runs:", *missing, sep="\n  ")
        sys.exit(1)
    if checked < 20:
        sys.exit(f"only {checked} commands found in handson.md: is the ```bash fencing intact?")
    print(f"all {checked} gcloud/curl commands of handson.md are in the scripts' transcript")


main()
