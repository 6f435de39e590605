"""Remote datasets from Python (the cargo feature ``remote``): a kwcoco bundle
served by moto's S3 server (``python -m moto.server``, which ``cargo xtask
test`` installs) samples as the same bundle on disk does. Skipped when the
module was built without the feature."""
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import ndsampler_rs

# `cargo xtask test` builds the feature in: under CI a build without it fails
# here rather than skipping
pytestmark = pytest.mark.skipif(not ndsampler_rs.HAS_REMOTE and not os.environ.get('CI'),
                                reason='built without the cargo feature "remote"')

ROOT = Path(__file__).resolve().parents[3]
SHAPES4 = ROOT / 'tests' / 'fixtures' / 'shapes4'


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _request(port, method, path, body=b''):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    conn.request(method, path, body=body)
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.fixture(scope='module')
def moto():
    try:
        import moto.server  # noqa: F401
    except ImportError:
        pytest.fail(f"{sys.executable} cannot import moto.server: pip install 'moto[s3]' flask "
                    'flask-cors (cargo xtask test does it)')
    port = _free_port()
    proc = subprocess.Popen([sys.executable, '-m', 'moto.server', '-H', '127.0.0.1', '-p',
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError('moto.server did not start within 60 s')
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_an_s3_bundle_samples_as_the_local_one(moto):
    bucket = f'ndsampler-py-{moto}'
    assert _request(moto, 'PUT', f'/{bucket}') == 200
    files = [SHAPES4 / 'data.kwcoco.json'] + sorted((SHAPES4 / 'images').iterdir())
    for f in files:
        key = f'/{bucket}/shapes4/{f.relative_to(SHAPES4).as_posix()}'
        assert _request(moto, 'PUT', key, f.read_bytes()) == 200, key
    ndsampler_rs.set_store_options(f's3://{bucket}', {
        'aws_endpoint': f'http://127.0.0.1:{moto}', 'aws_allow_http': 'true',
        'aws_access_key_id': 'testing', 'aws_secret_access_key': 'testing',
        'aws_region': 'us-east-1'})
    remote = ndsampler_rs.CocoSampler(f's3://{bucket}/shapes4/data.kwcoco.json')
    local = ndsampler_rs.CocoSampler(SHAPES4 / 'data.kwcoco.json')
    assert remote.n_positives == local.n_positives == 52
    targets = [{'gid': 2, 'space_slice': [[-10, 90], [300, 420]]},
               remote.regions.get_positive(7)] + remote.regions.random_windows((64, 64), 4, rng=1)
    for t in targets:
        a, b = remote.load_sample(dict(t)), local.load_sample(dict(t))
        np.testing.assert_array_equal(a['im'], b['im'])
        assert a['annots']['aids'].tolist() == b['annots']['aids'].tolist()
    stacked = remote.load_batch_stacked(targets[2:])
    np.testing.assert_array_equal(stacked['im'],
                                  local.load_batch_stacked(targets[2:])['im'])
    with pytest.raises(OSError, match=f's3://{bucket}/nope/data.kwcoco.json'):
        ndsampler_rs.CocoSampler(f's3://{bucket}/nope/data.kwcoco.json')
