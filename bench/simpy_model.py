"""A SimPy model of the workload bench/run.py times fraclab on: SM
initialisation (process 300), additive key generation (process 500) and key
confirmation on toy-64, a fixed 10 ms network without loss, no trace.

It sends exactly the messages fraclab sends for the same n and epochs:
- the SM sends each member its pad (α_{i,1}, θ_1);
- after initialisation and after each iteration, every member derives the
  epoch's key and broadcasts its confirmation tag to the n − 1 others;
- each iteration j (1..epochs) starts on the member's rekey timer at
  j · 1000 ms: it draws FK, broadcasts HFK = α + FK to the n − 1 others and,
  once it holds all n HFKs, sets θ' = (1 − n)·θ + Σ HFK and α' = θ' − FK;
- every payload is acknowledged.

That is 2n + 2n(n − 1)(2·epochs + 1) messages, and the events are those
deliveries plus the n · epochs rekey timers, as fraclab counts them.

Two styles:
- `process`: the SimPy idiom, one process per party reading a Store inbox,
  one process per message for its latency, one timer process per member;
- `callback`: no processes, every delivery and timer is an env.timeout with
  one callback, the least SimPy can do per event.

    python simpy_model.py --style callback --members 64 --epochs 10

prints one JSON line: style, members, epochs, messages, events, elapsed_s,
events_per_s, and whether every key agreed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time

import simpy

Q = 0x7FFFFFFFFFFFFD21  # toy-64's q (`fraclab params toy-64 --json`)
LATENCY_US = 10_000  # fraclab's default network: fixed 10 ms
REKEY_US = 1_000_000  # rekey_interval_ms = 1000
SM = 0

PAD, HFK, CONFIRM, ACK = range(4)


def key_of(theta: int) -> bytes:
    return hashlib.sha256(theta.to_bytes(8, "big")).digest()


def confirm_tag(key: bytes) -> bytes:
    return hashlib.sha256(b"fraclab/confirm/v1" + key).digest()


class Counters:
    def __init__(self) -> None:
        self.messages = 0
        self.events = 0
        self.mismatches = 0


class Member:
    """Member i's protocol state; `send(dst, msg)` is the network."""

    def __init__(self, i: int, n: int, epochs: int, rng: random.Random, send, c: Counters):
        self.i, self.n, self.epochs, self.rng, self.send, self.c = i, n, epochs, rng, send, c
        self.alpha = self.theta = 0
        self.epoch = 0  # the epoch whose θ the member holds (1 after init)
        self.fk = 0
        self.started = 0  # the last iteration whose HFK it broadcast
        self.hfk_sum: dict[int, int] = {}
        self.hfk_count: dict[int, int] = {}
        self.keys: dict[int, bytes] = {}
        self.early_tags: dict[int, list[bytes]] = {}
        self.confirmed = 0
        self.seq = 0
        self.unacked: set[int] = set()

    def payload(self, dst: int, kind: int, epoch: int, value) -> None:
        self.seq += 1
        self.unacked.add(self.seq)
        self.send(dst, (kind, self.i, self.seq, epoch, value))

    def broadcast(self, kind: int, epoch: int, value) -> None:
        for j in range(1, self.n + 1):
            if j != self.i:
                self.payload(j, kind, epoch, value)

    def hold(self, epoch: int, alpha: int, theta: int) -> None:
        self.epoch, self.alpha, self.theta = epoch, alpha, theta
        key = key_of(theta)
        self.keys[epoch] = key
        tag = confirm_tag(key)
        for early in self.early_tags.pop(epoch, []):
            self.check(early, tag)
        self.broadcast(CONFIRM, epoch, tag)

    def check(self, got: bytes, mine: bytes) -> None:
        if got == mine:
            self.confirmed += 1
        else:
            self.c.mismatches += 1

    def rekey(self, j: int) -> None:
        """The rekey timer of iteration j fired (the model's members always
        hold epoch j by then: no loss, no skew)."""
        self.c.events += 1
        self.started = j
        self.fk = self.rng.randrange(Q)
        hfk = (self.alpha + self.fk) % Q
        self.add_hfk(j, hfk)
        self.broadcast(HFK, j, hfk)

    def add_hfk(self, j: int, value: int) -> None:
        self.hfk_sum[j] = (self.hfk_sum.get(j, 0) + value) % Q
        self.hfk_count[j] = self.hfk_count.get(j, 0) + 1
        self.maybe_finish(j)

    def maybe_finish(self, j: int) -> None:
        if self.started == j and self.hfk_count.get(j) == self.n:
            theta = ((1 - self.n) * self.theta + self.hfk_sum.pop(j)) % Q
            del self.hfk_count[j]
            self.hold(j + 1, (theta - self.fk) % Q, theta)

    def deliver(self, msg) -> None:
        self.c.events += 1
        kind, src, seq, epoch, value = msg
        if kind == ACK:
            self.unacked.discard(seq)
            return
        self.send(src, (ACK, self.i, seq, epoch, None))
        if kind == PAD:
            alpha, theta = value
            self.hold(1, alpha, theta)
        elif kind == HFK:
            self.add_hfk(epoch, value)
        elif kind == CONFIRM:
            mine = self.keys.get(epoch)
            if mine is None:
                self.early_tags.setdefault(epoch, []).append(value)
            else:
                self.check(value, confirm_tag(mine))


class SecurityManager:
    def __init__(self, n: int, rng: random.Random, send, c: Counters):
        self.n, self.rng, self.send, self.c = n, rng, send, c
        self.unacked: set[int] = set()

    def start(self) -> None:
        v = [self.rng.randrange(Q) for _ in range(self.n)]
        theta = sum(v) % Q
        for i in range(1, self.n + 1):
            self.unacked.add(i)
            self.send(i, (PAD, SM, i, 1, ((theta - v[i - 1]) % Q, theta)))

    def deliver(self, msg) -> None:
        self.c.events += 1
        self.unacked.discard(msg[2])


def run_callback(n: int, epochs: int, seed: int):
    env = simpy.Environment()
    c = Counters()
    rng = random.Random(seed)
    parties: list = []

    def send(dst: int, msg) -> None:
        c.messages += 1
        ev = env.timeout(LATENCY_US, msg)
        handler = parties[dst].deliver
        ev.callbacks.append(lambda e: handler(e.value))

    def arm(m: Member, j: int) -> None:
        ev = env.timeout(j * REKEY_US - env.now)

        def fire(_e, m=m, j=j):
            m.rekey(j)
            if j < epochs:
                arm(m, j + 1)

        ev.callbacks.append(fire)

    parties.append(SecurityManager(n, rng, send, c))
    members = [Member(i, n, epochs, rng, send, c) for i in range(1, n + 1)]
    parties.extend(members)
    parties[SM].start()
    if epochs:
        for m in members:
            arm(m, 1)
    env.run()
    return c, members, parties[SM]


def run_process(n: int, epochs: int, seed: int):
    env = simpy.Environment()
    c = Counters()
    rng = random.Random(seed)
    inboxes = [simpy.Store(env) for _ in range(n + 1)]

    def latency(dst: int, msg):
        yield env.timeout(LATENCY_US)
        inboxes[dst].put(msg)

    def send(dst: int, msg) -> None:
        c.messages += 1
        env.process(latency(dst, msg))

    def party(p, inbox):
        while True:
            msg = yield inbox.get()
            if msg[0] == "tick":
                p.rekey(msg[1])
            else:
                p.deliver(msg)

    def timer(inbox):
        for j in range(1, epochs + 1):
            yield env.timeout(j * REKEY_US - env.now)
            inbox.put(("tick", j))

    sm = SecurityManager(n, rng, send, c)
    members = [Member(i, n, epochs, rng, send, c) for i in range(1, n + 1)]
    env.process(party(sm, inboxes[SM]))
    for m in members:
        env.process(party(m, inboxes[m.i]))
        env.process(timer(inboxes[m.i]))
    sm.start()
    env.run()
    return c, members, sm


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--style", choices=["process", "callback"], required=True)
    ap.add_argument("--members", type=int, required=True)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.members < 2 or a.epochs < 0:
        ap.error("--members ≥ 2 and --epochs ≥ 0")
    t = time.perf_counter()
    c, members, sm = (run_callback if a.style == "callback" else run_process)(a.members, a.epochs, a.seed)
    elapsed = time.perf_counter() - t
    n = a.members
    agreed = (
        c.mismatches == 0
        and all(m.epoch == a.epochs + 1 and m.theta == members[0].theta for m in members)
        and all(m.confirmed == (n - 1) * (a.epochs + 1) and not m.unacked for m in members)
        and not sm.unacked
    )
    expected = 2 * n + 2 * n * (n - 1) * (2 * a.epochs + 1)
    out = {
        "style": a.style,
        "members": n,
        "epochs": a.epochs,
        "messages": c.messages,
        "messages_expected": expected,
        "events": c.events,
        "elapsed_s": round(elapsed, 6),
        "events_per_s": round(c.events / max(elapsed, 1e-9), 1),
        "keys_agreed": agreed,
    }
    print(json.dumps(out))
    return 0 if agreed and c.messages == expected else 1


if __name__ == "__main__":
    sys.exit(main())
