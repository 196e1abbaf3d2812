#!/usr/bin/env python3
"""Writes a JSON lines history of a real (linearizable) key-value store for
`electorate lincheck --model kv`, for measuring the checker at scale.

    scripts/generate-kv-history.py OPERATIONS KEYS INFO_PERCENT SEED > history.jsonl

Each operation (a read, write or compare-and-set of one of KEYS keys) takes
effect at its own instant inside a window of up to WINDOW operations either
side, on whichever process is free; INFO_PERCENT of them time out: they
complete as `info` with a nil value right after their invocation and take
effect or not. Seeded: the same arguments write the same file.
"""

import json
import random
import sys

WINDOW = 5
VALUES = 5


def main():
    operations, keys, info_percent, seed = (int(argument) for argument in sys.argv[1:5])
    rng = random.Random(seed)
    store = {}
    windows = []
    for index in range(operations):
        effect_at = 4 * (index + WINDOW) + 1
        invoke_at = effect_at - 1 - 4 * rng.randint(0, WINDOW)
        key = f"k{rng.randrange(keys)}"
        crashes = rng.randrange(100) < info_percent
        takes_effect = not crashes or rng.random() < 0.5
        function = rng.randrange(3)
        succeeded = True
        if function == 0:
            invoked, result = ("read", None), ("read", store.get(key))
        elif function == 1:
            value = rng.randrange(VALUES)
            if takes_effect:
                store[key] = value
            invoked = result = ("write", value)
        else:
            pair = [rng.randrange(VALUES), rng.randrange(VALUES)]
            succeeded = store.get(key) == pair[0]
            if succeeded and takes_effect:
                store[key] = pair[1]
            invoked = result = ("cas", pair)
        if crashes:
            completion = (invoke_at + 2, "info", (invoked[0], None))
        else:
            kind = "ok" if succeeded else "fail"
            completion = (effect_at + 1 + 4 * rng.randint(0, WINDOW), kind, result)
        windows.append((invoke_at, key, invoked, completion))
    windows.sort(key=lambda window: window[0])
    busy_until = []
    timed = []
    for invoke_at, key, invoked, (complete_at, kind, completed) in windows:
        process = next(
            (process for process, until in enumerate(busy_until) if until < invoke_at), None
        )
        if process is None:
            busy_until.append(0)
            process = len(busy_until) - 1
        busy_until[process] = complete_at
        timed.append((invoke_at, process, "invoke", key, invoked))
        timed.append((complete_at, process, kind, key, completed))
    timed.sort(key=lambda event: event[0])
    out = sys.stdout
    for _, process, kind, key, (function, value) in timed:
        event = {"process": process, "type": kind, "f": function, "key": key, "value": value}
        out.write(json.dumps(event, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
