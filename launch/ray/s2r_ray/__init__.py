"""s2r on Ray: rollout actors that each own one Node rollout worker, the driver the
Node learner talks to, a Ray Tune sweep runner, and a local multi-node cluster for tests.

Nothing here trains or steps environments: the Node processes do; Ray owns placement,
restarts and transport (the object store).
"""
