"""Training workers: what one round trip to a worker costs the server (``ui.runtime.offload``).

The server pickles the arguments and unpickles the result while holding its GIL, so this is time every other
learner's slider waits. Measured on the server side (CPU time of this process) for the app's transport
(``dlcore.jobs.dumps``: CPU tensors by value) and for a plain process-pool call (torch's multiprocessing
reduction: each tensor's storage in shared memory, its file descriptor handed over a socket).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from bench import Row, cpu_ms


def run() -> list[Row]:
    from dlcore import gan, jobs
    from dlcore.attention import transformer as tr

    rows: list[Row] = []
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=jobs.start, initargs=(1,))
    try:
        pool.submit(jobs.ready).result()
        state = tr.init_training(tr.TrainConfig(task="copy", steps=40, batch=16, seed=3))
        config = gan.GANConfig(steps=400)
        cases = [("attention retrain state, one chunk of 0 steps", tr.train_steps, (state, 0)),
                 (f"GAN run, {config.steps} steps (snapshots back)", jobs.collect, (gan.train, config))]
        for name, fn, args in cases:
            ours = cpu_ms(lambda fn=fn, args=args: jobs.loads(pool.submit(jobs.call, jobs.dumps((fn, args, {})))
                                                               .result()), 3)
            plain = cpu_ms(lambda fn=fn, args=args: pool.submit(fn, *args).result(), 3)
            rows.append(Row("workers", f"{name}: server CPU, app transport", ours, "ms",
                            f"plain pool {plain:.1f} ms ({plain / max(ours, 1e-9):.1f}x)"))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return rows
