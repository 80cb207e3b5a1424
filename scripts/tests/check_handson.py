"""handson.md cannot drift from the scripts: every `gcloud` and `curl` command in its ```bash
blocks (continuation lines joined, chains split at `&&`; a command inside `VAR=$(...)` too) must be a command that one of
the step scripts runs, as their --dry-run transcript (scripts/tests/transcript.sh) prints it. Words
are compared after shell parsing, with $PROJECT_ID and $REGION expanded to the values of the
environment the transcript was made with (not the guide's defaults: a value written into the guide
shows); $SERVICE_URL, $PROJECT_NUMBER, $STORAGE_SERVICE_AGENT and $(gcloud auth print-identity-token)
stay as written, as the dry runs print them. Calls to the local run (localhost) are left to
scripts/tests/local.bats.

Usage: PROJECT_ID=... REGION=... python3 check_handson.py HANDSON.md TRANSCRIPT
"""

import os
import re
import shlex
import sys

VALUES = {"PROJECT_ID": os.environ["PROJECT_ID"], "REGION": os.environ["REGION"]}


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
        # A chain (`grant && build && deploy`): each command on its own.
        for command in line.split(" && "):
            command = command.strip()
            inner = re.fullmatch(r"[A-Z_]+=\$\((.*)\)", command)
            if inner:
                command = inner.group(1)
            if command.startswith(("gcloud ", "curl ")) and "localhost" not in command:
                yield number, command


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
