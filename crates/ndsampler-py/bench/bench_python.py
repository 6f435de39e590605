"""Throughput of the Python package against `ndsampler bench` and the reference.

usage: python bench_python.py DATASET --workdir DIR [--count 2000] [--window 256]
           [--batch 32] [--rounds 3] [--cli target/release/ndsampler] [--reference]

One run, same random windows everywhere (written once by `ndsampler bench
--write-targets`), npy backend, alternating rounds; prints one JSON line with
the medians (windows/s) of:
  cli_1t / cli_2t    `ndsampler bench --targets plan --threads 1|2`
  cli_stacked_1t     the same with `--stacked BATCH` (Rust's own stacked batches)
  py_1t / py_2t      `SamplerDataset(stacked=True).__getitems__` on batches of `--batch`
                     keys (as torch's fetcher calls it), `CocoSampler(threads=1|2)`
  py_list_1t         the same returning a list of sample dicts (stacked=False)
  workers_1 / workers_2  batches spread over 1 or 2 spawned worker processes
                     (each `threads=1`, as DataLoader workers), pool start excluded
  reference          ndsampler 0.8.1's load_sample loop (with --reference)
and the ratios the issue asks for (py_2t / cli_2t, workers_2 / workers_1).
Build the module in release first: `maturin develop --release`.
"""
import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time

import ndsampler_rs
from ndsampler_rs.torch import SamplerDataset

HERE = os.path.dirname(os.path.abspath(__file__))


def cli_rate(cli, dataset, workdir, plan, threads, stacked=0):
    out = subprocess.run([cli, 'bench', dataset, '--backend', 'npy', '--workdir', workdir,
                          '--targets', plan, '--count', '0', '--threads', str(threads),
                          '--stacked', str(stacked),
                          '--json', '--no-stages'], check=True, capture_output=True, text=True)
    line = [x for x in out.stdout.splitlines() if x.startswith('{')][-1]
    return json.loads(line)['windows_per_sec']


def py_rate(sampler, targets, batch, stacked=True):
    """`SamplerDataset.__getitems__` over batches of keys, as torch's fetcher
    calls it (no annotations, like `ndsampler bench` without --annots)."""
    ds = SamplerDataset(sampler, targets, with_annots=False, stacked=stacked)
    keys = [(0, i) for i in range(len(targets))]
    ds.__getitems__(keys[:batch])  # warm-up
    t0 = time.perf_counter()
    for i in range(0, len(keys), batch):
        ds.__getitems__(keys[i:i + batch])
    return len(targets) / (time.perf_counter() - t0)


_WORKER = {}


def _init(dataset, workdir, targets):
    s = ndsampler_rs.CocoSampler(dataset, backend='npy', workdir=workdir, threads=1)
    _WORKER['ds'] = SamplerDataset(s, targets, with_annots=False, stacked=True)


def _load(chunk):
    ds = _WORKER['ds']
    n = 0
    for keys in chunk:
        n += len(ds.__getitems__(keys)['im'])
    return n


def workers_rate(dataset, workdir, targets, batch, procs):
    keys = [(0, i) for i in range(len(targets))]
    batches = [keys[i:i + batch] for i in range(0, len(keys), batch)]
    chunks = [batches[k::procs] for k in range(procs)]
    ctx = multiprocessing.get_context('spawn')
    with ctx.Pool(procs, initializer=_init, initargs=(dataset, workdir, targets)) as pool:
        pool.map(_load, [[batches[0]]] * procs)  # start and warm every worker
        t0 = time.perf_counter()
        n = sum(pool.map(_load, chunks))
        return n / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('dataset')
    p.add_argument('--workdir', required=True)
    p.add_argument('--count', type=int, default=2000)
    p.add_argument('--window', type=int, default=256)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--cli', default='target/release/ndsampler')
    p.add_argument('--reference', action='store_true')
    a = p.parse_args()

    tmp = tempfile.mkdtemp()
    plan = os.path.join(tmp, 'plan.json')
    subprocess.run([a.cli, 'bench', a.dataset, '--backend', 'npy', '--workdir', a.workdir,
                    '--count', str(a.count), '--window', f'{a.window},{a.window}',
                    '--write-targets', plan, '--json', '--no-stages'],
                   check=True, capture_output=True)
    with open(plan) as f:
        targets = json.load(f)
    s1 = ndsampler_rs.CocoSampler(a.dataset, backend='npy', workdir=a.workdir, threads=1)
    s2 = ndsampler_rs.CocoSampler(a.dataset, backend='npy', workdir=a.workdir, threads=2)
    s1.frames.prepare()
    runs = {k: [] for k in ('cli_1t', 'cli_2t', 'cli_stacked_1t', 'py_1t', 'py_list_1t', 'py_2t',
                            'workers_1', 'workers_2', 'reference')}
    for _ in range(a.rounds):
        runs['cli_1t'].append(cli_rate(a.cli, a.dataset, a.workdir, plan, 1))
        runs['py_1t'].append(py_rate(s1, targets, a.batch))
        runs['cli_stacked_1t'].append(cli_rate(a.cli, a.dataset, a.workdir, plan, 1, a.batch))
        runs['py_list_1t'].append(py_rate(s1, targets, a.batch, stacked=False))
        runs['cli_2t'].append(cli_rate(a.cli, a.dataset, a.workdir, plan, 2))
        runs['py_2t'].append(py_rate(s2, targets, a.batch))
        runs['workers_1'].append(workers_rate(a.dataset, a.workdir, targets, a.batch, 1))
        runs['workers_2'].append(workers_rate(a.dataset, a.workdir, targets, a.batch, 2))
        if a.reference:
            ref = os.environ.get('NDSAMPLER_REFERENCE_BENCH',
                                 os.path.join(HERE, '../../../../shared/tools/python-reference/bench_reference.py'))
            out = subprocess.run([sys.executable, ref, a.dataset, '--backend', 'npy',
                                  '--workdir', os.path.join(tmp, 'ref'), '--targets', plan],
                                 check=True, capture_output=True, text=True)
            line = [x for x in out.stdout.splitlines() if x.startswith('{')][-1]
            runs['reference'].append(json.loads(line)['windows_per_sec'])
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    med['py_2t_over_cli_2t'] = med['py_2t'] / med['cli_2t']
    med['py_1t_over_cli_1t'] = med['py_1t'] / med['cli_1t']
    med['py_1t_over_cli_stacked_1t'] = med['py_1t'] / med['cli_stacked_1t']
    med['workers_2_over_1'] = med['workers_2'] / med['workers_1']
    if 'reference' in med:
        med['py_1t_over_reference'] = med['py_1t'] / med['reference']
    med.update({'count': len(targets), 'window': a.window, 'batch': a.batch, 'rounds': a.rounds,
                'runs': runs})
    print(json.dumps(med))


if __name__ == '__main__':
    main()
