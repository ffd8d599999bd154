# SPDX-License-Identifier: GPL-3.0-or-later
"""Documents in OpenSearch, through the tenant's sidecar (``OPENSEARCH_URL``, set by the deploy when the
service depends on an opensearch service). The standard library's HTTP client: nothing more to install."""
import json
import os
import urllib.parse
import urllib.request

from connections import ConfigError

INDEX = "docs"


def _call(method, path, body=None):
    base = os.environ.get("OPENSEARCH_URL")
    if not base:
        raise ConfigError("OPENSEARCH_URL is not set: add an opensearch service to depends_on")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


def index_doc(doc_id, title, body):
    """Index one document (visible to searches when this returns)."""
    path = "/%s/_doc/%s?refresh=wait_for" % (INDEX, urllib.parse.quote(doc_id, safe=""))
    reply = _call("PUT", path, {"title": title, "body": body})
    return {"id": reply.get("_id"), "result": reply.get("result")}


def search(text):
    """The documents whose title or body match ``text``, best first."""
    reply = _call("POST", "/%s/_search" % INDEX,
                  {"query": {"multi_match": {"query": text, "fields": ["title^2", "body"]}}, "size": 20})
    hits = reply.get("hits", {})
    return {"total": hits.get("total", {}).get("value", 0),
            "hits": [dict(hit["_source"], id=hit["_id"]) for hit in hits.get("hits", [])]}
