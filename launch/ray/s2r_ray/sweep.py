"""A sweep on Ray Tune: each trial is one `s2r train` process, its metrics.csv streamed to Tune.

python -m s2r_ray.sweep PLAN.json   (PLAN written by `s2r sweep --ray`)
PLAN: {address, name, storage, metric, mode, asha: {maxT, gracePeriod} | null,
       trials: [{name, dir, command}]}
Each trial writes <dir>/status.json (completed | stopped | failed); the Node side builds the table.
"""
import csv
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.dup2(2, 1)  # Tune's progress goes to stderr with everything else

from .loopback import is_loopback, use_loopback  # noqa: E402


def _die_with_parent():
    # The trial's `s2r train` ends with the Tune worker that runs it (e.g. stopped by ASHA).
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _new_rows(path, seen):
    if not os.path.exists(path):
        return [], seen
    with open(path, newline="") as f:
        lines = f.read().split("\n")
    complete = [l for l in lines[:-1]]  # the last piece may be a row still being written
    if len(complete) <= 1:
        return [], seen
    rows = list(csv.DictReader(complete))
    return rows[seen:], len(rows)


def make_trainable(plan):
    from ray import tune

    def run_trial(config):
        t = plan["trials"][config["trial"]]
        log = open(os.path.join(t["dir"], "train.log"), "w")
        proc = subprocess.Popen(t["command"], stdout=log, stderr=log, preexec_fn=_die_with_parent)
        seen, stopped = 0, False
        metrics_file = os.path.join(t["dir"], "run", "metrics.csv")
        try:
            while True:
                ended = proc.poll() is not None
                rows, seen = _new_rows(metrics_file, seen)
                for r in rows:
                    tune.report({k: float(v) for k, v in r.items() if v not in ("", None)})
                if ended:
                    break
                time.sleep(0.5)
        except BaseException:
            # Tune stopped the trial (ASHA, or the trial reached the scheduler's max_t) while we reported.
            stopped = True
            raise
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # s2r train saves its checkpoint on SIGINT
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if proc.returncode != 0 and not stopped:
            raise RuntimeError(f"s2r train exited with {proc.returncode}; see {t['dir']}/train.log")

    return run_trial


def main():
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    address = plan.get("address")
    if not address or is_loopback(address):
        use_loopback()
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    package = os.path.dirname(os.path.abspath(__file__))
    runtime_env = {"py_modules": [package], "env_vars": {"RAY_USAGE_STATS_ENABLED": "0"}}
    if address:
        ray.init(address=address, runtime_env=runtime_env)
    else:
        ray.init(include_dashboard=False, runtime_env=runtime_env, num_cpus=plan.get("localCpus"))
    asha = plan.get("asha")
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=asha["maxT"], grace_period=asha["gracePeriod"]) if asha else None
    tuner = tune.Tuner(
        tune.with_resources(make_trainable(plan), {"cpu": 1}),
        param_space={"trial": tune.grid_search(list(range(len(plan["trials"]))))},
        tune_config=tune.TuneConfig(metric=plan["metric"], mode=plan["mode"], scheduler=scheduler),
        run_config=tune.RunConfig(name=plan["name"], storage_path=plan["storage"], verbose=1),
    )
    results = tuner.fit()
    errors = 0
    # Each trial's outcome, from Tune's results (a stopped trial's own thread may not get to say).
    for r in results:
        t = plan["trials"][r.config["trial"]]
        steps = (r.metrics or {}).get("steps", 0)
        if r.error:
            errors += 1
            status = {"status": "failed", "error": str(r.error).strip().split("\n")[-1]}
        elif steps >= t["totalSteps"]:
            status = {"status": "completed"}
        else:
            status = {"status": "stopped", "atSteps": steps}
        with open(os.path.join(t["dir"], "status.json"), "w") as f:
            json.dump(status, f)
    print(f"s2r_ray.sweep: {len(results)} trials, {errors} failed", file=sys.stderr)
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
