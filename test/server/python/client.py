"""A Python service using `semvec serve` with the standard library only
(no Chroma Python client is installable here): create a collection, add,
query with a filter, read the error JSON. Prints one JSON object."""
import json
import sys
import urllib.error
import urllib.request

BASE = sys.argv[1] + "/api/v2/tenants/default_tenant/databases/default_database"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


_, col = call("POST", "/collections", {"name": "from-python", "configuration": {"hnsw": {"space": "l2"}}})
at = "/collections/" + col["id"]
add_status, _ = call("POST", at + "/add", {"ids": ["a", "b", "c"], "embeddings": [[0, 0], [1, 0], [0, 1]], "metadatas": [{"lang": "py"}, {"lang": "go"}, {"lang": "py"}]})
_, hits = call("POST", at + "/query", {"query_embeddings": [[0.9, 0.1]], "n_results": 2, "where": {"lang": "py"}, "include": ["distances", "metadatas"]})
missing_status, missing = call("POST", "/collections/00000000-0000-8000-8000-0000000000ff/get", {})
_, count = call("GET", at + "/count")
print(json.dumps({"add": add_status, "ids": hits["ids"], "distances": hits["distances"], "missing": [missing_status, missing["error"]], "count": count}))
