"""The Ray driver of one `s2r train --ray` run, spawned by the Node learner.

It reads frames on stdin and answers on stdout (everything else this process or Ray
prints goes to stderr, the run's ray.log):
  init    {address, workers: [init...], workerCommand, maxRestarts} -> ready {workers: [{node, host, pid}], address}
  rollout {rng, normCount} [params, norm]                          -> rollout {parts: [...], driverMs} [every part's buffers]
  close                                                            -> exits
"""
import os
import sys
import time

# Frames get the real stdout; anything else printed (Ray's logs included) goes to stderr.
_frames_out = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from .frames import read_frame, write_frame  # noqa: E402
from .loopback import is_loopback, use_loopback  # noqa: E402

ray = None


def connect(address):
    """Joins the cluster at `address`, or starts a local instance bound to 127.0.0.1."""
    global ray
    if not address or is_loopback(address):
        use_loopback()
    import ray as _ray

    ray = _ray
    package = os.path.dirname(os.path.abspath(__file__))
    runtime_env = {"py_modules": [package], "env_vars": {"RAY_USAGE_STATS_ENABLED": "0"}}
    if address:
        ray.init(address=address, runtime_env=runtime_env, log_to_driver=True)
    else:
        ray.init(include_dashboard=False, runtime_env=runtime_env, log_to_driver=True)


def main():
    stdin = sys.stdin.buffer
    actors = []
    try:
        header, _ = read_frame(stdin)
        if header.get("op") != "init":
            raise RuntimeError(f"expected init, got {header.get('op')}")
        connect(header.get("address"))
        from .rollout_actor import RolloutActor
        restarts = int(header.get("maxRestarts", 10))
        actors = [
            RolloutActor.options(max_restarts=restarts, max_task_retries=restarts, scheduling_strategy="SPREAD").remote(w, header["workerCommand"])
            for w in header["workers"]
        ]
        placed = ray.get([a.ready.remote() for a in actors])
        write_frame(_frames_out, {"op": "ready", "workers": placed, "address": ray.get_runtime_context().gcs_address})
        while True:
            try:
                header, buffers = read_frame(stdin)
            except EOFError:
                break
            op = header.get("op")
            if op == "close":
                break
            if op != "rollout":
                raise RuntimeError(f"unknown op {op}")
            t0 = time.perf_counter()
            weights = ray.put((buffers[0], buffers[1]))
            request = {"rng": header["rng"], "normCount": header["normCount"]}
            results = ray.get([a.rollout.remote(weights, request) for a in actors])
            driver_ms = (time.perf_counter() - t0) * 1000
            write_frame(_frames_out, {"op": "rollout", "parts": [r[0] for r in results], "driverMs": driver_ms}, [b for r in results for b in r[1]])
            del weights
    except Exception as e:  # reported to the learner, which stops with this message
        print(f"s2r_ray.driver: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        try:
            write_frame(_frames_out, {"op": "error", "message": f"{type(e).__name__}: {e}"})
        except Exception:
            pass
        return 1
    finally:
        if actors:
            try:
                ray.get([a.close.remote() for a in actors], timeout=15)
            except Exception:
                pass
        if ray is not None and ray.is_initialized():
            ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
