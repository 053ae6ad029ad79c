"""A Ray actor owning one Node rollout worker (dist/launch/ray/rollout-worker.js) over stdio frames."""
import os
import socket
import subprocess

import ray

from .frames import read_frame, write_frame


@ray.remote(num_cpus=1)
class RolloutActor:
    def __init__(self, init, command):
        # Started again by Ray after a crash: a fresh Node process, fresh episodes for this slice.
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.init_error = None
        try:
            write_frame(self.proc.stdin, {"op": "init", **init})
            header, _ = read_frame(self.proc.stdout)
        except (EOFError, BrokenPipeError, OSError) as e:
            header = {"op": "error", "message": f"rollout worker process ended during init ({e})"}
        if header.get("op") != "ready":
            # A bad config is not cured by restarting: keep the actor and report it on every call.
            self.init_error = str(header.get("message", header))

    def ready(self):
        self._check()
        return {"node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(), "pid": self.proc.pid}

    def rollout(self, weights, header):
        self._check()
        params, norm = weights
        try:
            write_frame(self.proc.stdin, {"op": "rollout", **header}, [params, norm])
            reply, buffers = read_frame(self.proc.stdout)
        except (EOFError, BrokenPipeError, OSError):
            # Our Node process died mid-rollout: die with it, so Ray restarts this actor
            # (max_restarts) and retries the call on the new one (max_task_retries).
            os._exit(1)
        if reply.get("op") != "rollout":
            raise RuntimeError(f"rollout worker (pid {self.proc.pid}): {reply.get('message', reply)}")
        return reply, buffers

    def close(self):
        try:
            write_frame(self.proc.stdin, {"op": "close"})
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()

    def _check(self):
        if self.init_error is not None:
            raise RuntimeError(f"rollout worker failed to start: {self.init_error}")
