"""Prints one short summary per wirefeed record read as JSON lines on stdin."""

import json
import sys

for line in sys.stdin:
    record = json.loads(line)
    provider = record["source"]["provider"]
    body = record["body"]
    kinds = ", ".join(sorted({cut["kind"] for cut in record["removed"]})) or "nothing"
    print("[%s] v%d %s" % (provider, record["version"], record["title"]))
    print("    id %s  %d paragraphs, %d words; removed: %s"
          % (record["id"], len(body["paragraphs"]), body["word_count"], kinds))
    if record["contributors"]:
        print("    contributors: " + ", ".join(record["contributors"]))
    rights = record["rights"]
    if rights:
        print("    rights: %s %s" % (rights.get("holder") or rights["statement"], rights.get("year") or ""))
    entities = record.get("entities") or {}
    for kind in ("people", "organizations", "places"):
        if entities.get(kind):
            print("    %s: %s" % (kind, ", ".join(entities[kind][:6])))
    quotes = [q for q in record.get("quotes") or [] if q.get("speaker")]
    if quotes:
        print("    quote: %s — \"%s\"" % (quotes[0]["speaker"], quotes[0]["text"][:70]))
    if record.get("keywords"):
        print("    keywords: " + ", ".join(record["keywords"]))
    sys.stdout.flush()
