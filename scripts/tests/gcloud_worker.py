"""The installed gcloud, started once, running command after command (real_gcloud.py): each line
of stdin is a command's words as a JSON list; each answer, on the stdout it started with, is
{"code": exit status, "stderr": what gcloud printed on stderr}. gcloud's command-line tree is built
once instead of once a command (about 0.8 s of CPU each); the parsing and checks each command meets
are gcloud's own, as `gcloud.py` runs them.

Run with gcloud's Python: python3 gcloud_worker.py SDK_ROOT/lib
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
import gcloud as entry  # noqa: E402  the SDK's own entry point, for its sys.path fixes

entry._fix_google_module()
sys.path = entry.reorder_sys_path(sys.path)
gcloud_main = entry._import_gcloud_main()
cli = gcloud_main.CreateCLI([])

answers = os.fdopen(os.dup(1), "w")
errors = tempfile.NamedTemporaryFile("w+", delete=False)
for line in os.fdopen(os.dup(0)):
    words = json.loads(line)
    # gcloud writes to the process's stdout and stderr: stdout goes nowhere, stderr to a file.
    saved = os.dup(1), os.dup(2)
    errors.seek(0)
    errors.truncate()
    with open(os.devnull, "w") as nowhere:
        os.dup2(nowhere.fileno(), 1)
        os.dup2(errors.fileno(), 2)
        try:
            # As gcloud_main.main runs a command: with the credential providers (impersonation).
            with gcloud_main.creds_context_managers.CredentialProvidersManager(None):
                cli.Execute(words[1:])
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
        except BaseException as error:  # a crash is a failure to report, not the worker's end
            code = 1
            print(repr(error), file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
    for fd in saved:
        os.close(fd)
    errors.seek(0)
    answers.write(json.dumps({"code": code, "stderr": errors.read()[-4000:]}) + "\n")
    answers.flush()
