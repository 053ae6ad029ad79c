"""Keeping a one-machine Ray on 127.0.0.1.

On Linux Ray replaces 127.0.0.1 by the machine's outward address (so other machines
could join); a local instance or test cluster must stay on loopback. Ray's own switch
for that is read when ray is imported, so call use_loopback() before `import ray`.
"""
import os


def is_loopback(address):
    host = address.rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


def use_loopback():
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
