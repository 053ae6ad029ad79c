"""A Ray cluster of several nodes on this one machine (ray.cluster_utils.Cluster), for tests and `s2r bench ray`.

python -m s2r_ray.cluster --nodes 2 --cpus 1
prints one JSON line {"address": ...} once every node is up, then holds the cluster until stdin closes.
"""
import argparse
import json
import os
import sys

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
_out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

from .loopback import use_loopback  # noqa: E402

use_loopback()
from ray.cluster_utils import Cluster  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nodes", type=int, default=2)
    p.add_argument("--cpus", type=int, default=1)
    a = p.parse_args()
    node = {"num_cpus": a.cpus}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    try:
        for _ in range(a.nodes - 1):
            cluster.add_node(**node)
        cluster.wait_for_nodes()
        _out.write(json.dumps({"address": cluster.address, "nodes": a.nodes, "cpusPerNode": a.cpus}) + "\n")
        _out.flush()
        sys.stdin.read()
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
