"""Every gcloud command of the hands-on, run by the installed gcloud: a command may fail at the
network, never at argument parsing or gcloud's own checks (flag values, index files, URLs).

gcloud is started once and runs every command in turn (gcloud_worker.py: its command-line tree
built once, not once a command). The commands come from the scripts' dry-run transcript (scripts/tests/transcript.sh), with the dry
runs' placeholders ($SERVICE_URL, $PROJECT_NUMBER...) given realistic values. gcloud runs without
credentials, with a fresh configuration, every API endpoint pointed at a local stub reached through
gcloud's proxy setting (Cloud Run's regional hosts included); the stub answers every request 403
with a marker. A command passed gcloud's parsing and local validation when its error carries the
marker or it sent a request (`gcloud builds submit` words its own error), or when it succeeds
without the network (`gcloud config set`); a `gcloud auth` command that impersonates an account
passed them when it stops only for want of a signed-in account (its flags were parsed by then). Requests that name a
location must name REGION: a region written into a script would show here.

Usage: python3 real_gcloud.py TRANSCRIPT PROJECT_ID REGION
"""

import http.server
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading

MARKER = "hands-on gcloud stub"
NO_ACCOUNT = "You do not currently have an active account selected"
APIS = ["artifactregistry", "cloudbuild", "cloudresourcemanager", "cloudscheduler", "datastore", "eventarc",
        "firestore", "iam", "logging", "pubsub", "run", "serviceusage", "storage"]
PLACEHOLDERS = {
    "$SERVICE_URL": "https://storage-logging-service-123456789012.asia-northeast1.run.app",
    "$PROJECT_NUMBER": "123456789012",
    "$STORAGE_SERVICE_AGENT": "service-123456789012@gs-project-accounts.iam.gserviceaccount.com",
    "$ID": "1",
}
requests = []


class Stub(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        requests.append(f"{self.command} {self.path}")
        body = json.dumps({"error": {"code": 403, "message": MARKER, "status": "PERMISSION_DENIED"}}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, *args):
        pass


def gcloud_commands(transcript):
    seen = []
    for line in open(transcript, encoding="utf-8"):
        if not line.startswith("gcloud "):
            continue
        words = shlex.split(line)
        words = [re.sub(r"\$[A-Z_]+", lambda m: PLACEHOLDERS.get(m.group(0), m.group(0)), w) for w in words]
        if words not in seen:
            seen.append(words)
    return seen


def main():
    transcript, project, region = sys.argv[1:4]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSDK_")}
    env.update({
        "CLOUDSDK_CONFIG": config, "CLOUDSDK_CORE_PROJECT": project, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true", "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "CLOUDSDK_PROXY_TYPE": "http", "CLOUDSDK_PROXY_ADDRESS": "127.0.0.1",
        "CLOUDSDK_PROXY_PORT": str(server.server_address[1]),
    })
    for api in APIS:
        env[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"] = "http://gcloud-stub.invalid/"
    failures = []
    commands = gcloud_commands(transcript)
    # One gcloud process for every command (gcloud_worker.py), with gcloud's own Python.
    python, sdk_root = subprocess.run(
        ["gcloud", "info", "--format=value(basic.python_location,installation.sdk_root)"],
        env=env, capture_output=True, text=True, check=True).stdout.split()
    worker = subprocess.Popen(
        [python, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gcloud_worker.py"),
         os.path.join(sdk_root, "lib")],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for words in commands:
        before = len(requests)
        worker.stdin.write(json.dumps(words) + "\n")
        worker.stdin.flush()
        done = json.loads(worker.stdout.readline() or '{"code": -1, "stderr": "the gcloud worker ended"}')
        code, stderr = done["code"], done["stderr"]
        signed_out = words[1] == "auth" and NO_ACCOUNT in stderr
        if not (code == 0 or MARKER in stderr or len(requests) > before or signed_out):
            failures.append(f"{shlex.join(words)}\n    exit {code}: {stderr.strip()[-600:]}")
    worker.stdin.close()
    worker.wait(timeout=60)
    wrong_region = [r for r in requests if re.search(r"/locations/(?!" + re.escape(region) + r"[/?])", r)
                    and "/locations/global" not in r]
    for failure in failures:
        print("gcloud refused:", failure)
    for request in wrong_region:
        print(f"a request names another location than {region}: {request}")
    if failures or wrong_region or len(commands) < 40:
        sys.exit(1)
    print(f"{len(commands)} gcloud commands parsed and validated by gcloud, {len(requests)} requests, "
          f"all locations {region}")


main()
