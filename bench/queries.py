#!/usr/bin/env python3
"""Times typical API requests against a running `fupin serve` (sequentially,
one client), and prints a Markdown table of median and 95th-percentile latency.

Usage: bench/queries.py http://127.0.0.1:8080/graphql [repetitions]
"""
import json
import statistics
import sys
import time
import urllib.request

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080/graphql"
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 30


def post(query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(URL, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        data = json.load(response)
    if "errors" in data:
        raise SystemExit(f"errors: {data['errors']}")
    return data["data"]


county = post("{ county { townships(first: 1) { nodes { id villages(first: 1) { nodes { id code } } } } } }")
township = county["county"]["townships"]["nodes"][0]
village = township["villages"]["nodes"][0]
first_household = post("{ households(first: 1) { nodes { id } } }")["households"]["nodes"][0]["id"]
middle = post("{ households(first: 1, orderBy: { field: NUMBER }, filter: { search: \"%s\" }) { edges { cursor } } }" % village["code"][:9])
middle_cursor = middle["households"]["edges"][0]["cursor"]

CARD = """id number status mainCause otherCauses attribute
  village { name township { name } }
  members { name idNumber relation health labourAbility }
  incomes { year perCapitaNet povertyLine abovePovertyLine }"""

CASES = [
    ("page of 100 households with members, village, incomes",
     "{ households(first: 100) { nodes { %s } } }" % CARD, {}),
    ("the same page deep in the register (keyset cursor, by number)",
     "query($a: String) { households(first: 100, after: $a, orderBy: { field: NUMBER }) { nodes { %s } } }" % CARD,
     {"a": middle_cursor}),
    ("households of a township still poor, with totalCount",
     "query($r: ID) { households(first: 20, filter: { regionId: $r, status: [ENROLLED, RETURNED] }) { totalCount nodes { number } } }",
     {"r": township["id"]}),
    ("count of households under 3,000 yuan per head in 2020, county-wide",
     "{ households(filter: { income: { year: 2020, maxPerCapita: \"3000\" } }) { totalCount } }", {}),
    ("count of households with illness as any cause, county-wide",
     "{ households(filter: { cause: ILLNESS }) { totalCount } }", {}),
    ("search by member name prefix",
     "{ households(first: 20, filter: { search: \"王海\" }) { nodes { number head { name } } } }", {}),
    ("one filing card by ID", "query($id: ID!) { household(id: $id) { %s } }" % CARD, {"id": first_household}),
    ("50 villages, each with 5 households and totalCount (nested, batched)",
     "{ villages(first: 50) { nodes { name households(first: 5) { totalCount nodes { number } } } } }", {}),
]

print(f"| request | median ms | p95 ms |")
print(f"|---|---:|---:|")
for name, query, variables in CASES:
    post(query, variables)  # warm up
    timings = []
    for _ in range(REPS):
        started = time.perf_counter()
        post(query, variables)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"| {name} | {statistics.median(timings):.1f} | {p95:.1f} |")
