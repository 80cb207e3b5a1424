"""Follows handson.md as a reader does, one section at a time, each in a fresh shell: only what the
guide tells the reader to set is there (the block marked `<!-- every-shell -->`, which the guide
says to run first in every new terminal, then the section's ```bash blocks in order). Runs with
`bash -euo pipefail`, so a variable that another section defined, or a command that fails in the
order the guide gives, stops it. gcloud and curl are the stateful fakes of scripts/tests/fake (the
real gcloud parses the same commands in real_gcloud.py); cargo and rustup are recorded only.

A way is the list of sections the reader follows: the Pub/Sub way, or the Eventarc way in place
of it, then the scheduler and the manual cleanup of that way. After the cleanup the project must
hold only what the guide says it keeps: the database and the index (deleted in the console).

`paste` instead of a way pastes each block that grants a role and then builds into an interactive
shell, as a reader does (no `set -e`), with the grant failing: the block must stop there, calling
no build and no deploy.

Usage: python3 guide_sections.py HANDSON.md pubsub|eventarc|paste REPOSITORY WORKDIR
"""

import json
import os
import re
import subprocess
import sys

# A reader who picks another region than the guide's example, as the guide allows.
PROJECT, REGION = "handson-test-123", "asia-northeast1"
# (section number, subsection title prefix or None for the whole section, subsections left out)
WAYS = {
    "pubsub": [("1", None), ("2", None), ("3", None), ("4", None, "別の方法"), ("5", None),
               ("7", "Pub/Sub の方法"), ("7", "共通")],
    "eventarc": [("1", None), ("2", None), ("3", None), ("4", "サービスのデプロイ"), ("4", "別の方法"),
                 ("5", None), ("7", "Eventarc の方法"), ("7", "共通")],
}


def parse(markdown):
    """[(section number, subsection title, [(block text, every_shell)])] in order."""
    parts, section, subsection = [], None, ""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = re.match(r"## (\d+)\. ", line)
        if heading:
            section, subsection = heading.group(1), ""
            parts.append((section, subsection, []))
        elif line.startswith("### "):
            subsection = line[4:]
            parts.append((section, subsection, []))
        elif line == "```bash":
            end = lines.index("```", i + 1)
            every_shell = i > 0 and lines[i - 1] == "<!-- every-shell -->"
            parts[-1][2].append(("\n".join(lines[i + 1:end]), every_shell))
            i = end
        i += 1
    return parts


def reader_script(blocks, repository):
    script = "\n".join(blocks).replace("[your project ID]", PROJECT).replace("[repository URL]", repository)
    return script.replace("export REGION=us-central1", f"export REGION={REGION}")


def paste_with_failing_grant(parts, every_shell, repository, work, env):
    """Each block that grants and then builds, pasted into `bash -i` with every grant failing."""
    pasted = 0
    for number, title, blocks in parts:
        for block, _ in blocks:
            if "add-iam-policy-binding" not in block or "builds submit" not in block:
                continue
            pasted += 1
            log = os.path.join(work, f"paste-{pasted}.log")
            paste_env = dict(env, FAKE_LOG=log, FAKE_STATE=os.path.join(work, f"paste-{pasted}"),
                             FAKE_FAIL_ON="add-iam-policy-binding", PS1="", PS2="")
            subprocess.run(["bash", "--norc", "--noprofile", "-i"], env=paste_env, cwd=env["HOME"],
                           input=reader_script([every_shell, block], repository) + "\n",
                           capture_output=True, text=True, timeout=120)
            calls = open(log, encoding="utf-8").read() if os.path.exists(log) else ""
            if "add-iam-policy-binding" not in calls:
                sys.exit(f"section {number} {title}: the pasted block never tried its grant:\n{calls}")
            if "builds submit" in calls or "run deploy" in calls:
                sys.exit(f"section {number} {title}: after the grant failed, the pasted block went on "
                         f"to build or deploy:\n{calls}")
    if pasted == 0:
        sys.exit("no block grants a role and then builds (was the guide reorganised?)")
    print(f"paste: {pasted} blocks pasted with their grant failing; none built or deployed")


def main():
    markdown_path, way, repository, work = sys.argv[1:5]
    parts = parse(open(markdown_path, encoding="utf-8").read())
    every_shell = next(block for _, _, blocks in parts for block, marked in blocks if marked)
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    fake = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake")
    env = {"PATH": f"{fake}:/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
           "FAKE_LOG": os.path.join(work, "calls.log"), "FAKE_STATE": os.path.join(work, "state")}
    if way == "paste":
        paste_with_failing_grant(parts, every_shell, repository, work, env)
        return
    for spec in WAYS[way]:
        number, title, *left_out = spec
        chosen = [blocks for n, sub, blocks in parts if n == number
                  and (title is None or sub.startswith(title))
                  and not any(sub.startswith(out) for out in left_out)]
        blocks = [block for group in chosen for block, _ in group]
        if not blocks:
            sys.exit(f"{way}: section {number} {title or ''}: no bash blocks (was the guide reorganised?)")
        if every_shell not in blocks:
            blocks.insert(0, every_shell)
        script = reader_script(blocks, repository)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=home,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            sys.exit(f"{way}: section {number} {title or ''} failed in a fresh shell (exit {done.returncode}):\n"
                     f"{done.stderr[-2000:]}")
    with open(os.path.join(work, "state", "state.json"), encoding="utf-8") as f:
        state = json.load(f)
    left = sorted(k.rsplit(" ", 1)[0] for k in state["resources"])
    if left != ["datastore indexes", "firestore databases"] or state["bindings"]:
        sys.exit(f"{way}: after the guide's cleanup the project still holds: {json.dumps(state, indent=1)}")
    print(f"{way}: every section ran in a fresh shell; the cleanup left the database and the index")


main()
