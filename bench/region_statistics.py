#!/usr/bin/env python3
"""Times `statistics(regionId, year)` for the county, a township and a village
against a running `fupin serve` (sequentially, one client, no token: the public
view, which costs the same SQL as a signed-in one), and prints a Markdown table
of median and 95th-percentile latency.

Usage: bench/region_statistics.py http://127.0.0.1:8080/graphql [repetitions]
"""
import json
import statistics
import sys
import time
import urllib.request

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080/graphql"
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 10

FIGURES = """year byStatus { status households people } poorHouseholds poorPeople
  povertyIncidence meetsExitThreshold exits returns
  byMainCause { cause households } byAttribute { attribute households }
  income { households perCapitaNet perCapitaWage }
  plans { measures done overdue completionRate }
  pairing { households paired coverage notVisitedIn90Days }
  projectsByStatus { status projects } funds { allocated disbursed utilisation }"""


def post(query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(URL, body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        data = json.load(response)
    if "errors" in data:
        raise SystemExit(f"errors: {data['errors']}")
    return data["data"]


regions = post("{ county { id townships(first: 1) { nodes { id villages(first: 1) { nodes { id } } } } } }")
county = regions["county"]["id"]
township = regions["county"]["townships"]["nodes"][0]
village = township["villages"]["nodes"][0]["id"]
QUERY = "query($r: ID!) { statistics(regionId: $r, year: 2020) { %s children { region { id } %s } } }" % (FIGURES, FIGURES)

print("| request | median ms | p95 ms |")
print("|---|---:|---:|")
for label, region in [
    ("county, with its townships", county),
    ("a township, with its villages", township["id"]),
    ("a village", village),
]:
    post(QUERY, {"r": region})
    times = []
    for _ in range(REPS):
        start = time.perf_counter()
        post(QUERY, {"r": region})
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    print(f"| statistics of {label} | {statistics.median(times):.1f} | {p95:.1f} |")
