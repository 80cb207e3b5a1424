"""Our services and the original's Python client on one Datastore emulator, both ways.

Run by scripts/compat-python.sh with DATASTORE_EMULATOR_HOST, the namespace and our service's
URL in the environment. Exits non-zero with the reason on the first mismatch.
"""

import datetime
import json
import os
import sys
import urllib.request

from google.cloud import datastore

PROJECT = os.environ["COMPAT_PROJECT"]
NAMESPACE = os.environ["COMPAT_NAMESPACE"]
BOARD = os.environ["COMPAT_BOARD_URL"]

client = datastore.Client(project=PROJECT, namespace=NAMESPACE)


def post(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def check(condition, what):
    if not condition:
        sys.exit(f"compat: FAILED: {what}")
    print(f"compat: ok: {what}")


def http_date(dt):
    return dt.astimezone(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


# 1. What ours stored reads in Python as the original's own entities do.
answer = post(f"{BOARD}/api/v1/store", {"name": "from-rust", "message": "stored by Rust ✓"})
query = client.query(kind="Message")
query.add_filter(filter=datastore.query.PropertyFilter("name", "=", "from-rust"))
found = list(query.fetch())
check(len(found) == 1, "Python finds the Message that message_board stored")
entity = found[0]
check(set(entity.keys()) == {"name", "message", "timestamp"}, f"properties {sorted(entity.keys())}")
check(isinstance(entity["name"], str) and isinstance(entity["message"], str), "name and message are str")
check(entity["message"] == "stored by Rust ✓", "message text intact")
ts = entity["timestamp"]
check(isinstance(ts, datetime.datetime), f"timestamp is a datetime ({type(ts).__name__})")
check(ts.tzinfo is not None and ts.utcoffset() == datetime.timedelta(0), f"timestamp is UTC ({ts!r})")
check(http_date(ts) == answer["timestamp"], f"same instant as the answer ({answer['timestamp']})")
check(entity.key.id is not None and entity.key.name is None, "key has an allocated id, like the original's")
check("message" in entity.exclude_from_indexes, "message is excluded from indexes")

# 2. What the original stores (its exact code path) is what ours retrieves.
stored_at = []
for text in ["first from Python", "second from Python"]:
    resp = {"name": "from-python", "message": text, "timestamp": datetime.datetime.utcnow()}
    entity = datastore.Entity(key=client.key("Message"))
    entity.update(resp)
    client.put(entity)
    stored_at.append(resp["timestamp"])
retrieved = post(f"{BOARD}/api/v1/retrieve", {"name": "from-python"})
check(retrieved["name"] == "from-python", "retrieve echoes the name")
check(
    [m["message"] for m in retrieved["messages"]] == ["first from Python", "second from Python"],
    "message_board retrieves the Python-stored messages, oldest first",
)
check(
    [m["timestamp"] for m in retrieved["messages"]]
    == [at.replace(tzinfo=datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT") for at in stored_at],
    "their timestamps as the original answers them",
)
print("compat: all checks passed")
