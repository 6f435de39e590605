"""Every key the Rust target accepts reaches Rust from Python (issue 24 item 1):
each case loads through ``ndsampler_rs`` and through the CLI (``ndsampler
sample``) and the answers must be equal; the cases together use every key
Rust's ``Target`` lists; the reference's keys that are ignored are ignored only
at the reference's default value."""
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import ndsampler_rs

ROOT = Path(__file__).resolve().parents[3]
SHAPES4 = ROOT / 'tests' / 'fixtures' / 'shapes4' / 'data.kwcoco.json'
MSI = ROOT / 'tests' / 'fixtures' / 'vidshapes2-msi' / 'data.kwcoco.json'

CASES = [
    ('padkw', SHAPES4, {'gid': 1, 'space_slice': [[-10, 40], [350, 420]],
                        'padkw': {'mode': 'reflect'}}),
    ('augment', SHAPES4, {'gid': 2, 'space_slice': [[100, 164], [120, 200]],
                          'augment': {'seed': 5, 'epoch': 1, 'index': 3, 'rotation_deg': 30,
                                      'scale': [0.8, 1.25], 'hflip': 0.5}}),
    ('padkw-constant', SHAPES4, {'gid': 1, 'space_slice': [[-10, 40], [350, 420]],
                                 'padkw': {'mode': 'constant', 'constant_values': 7}}),
    ('centre-square-pad', SHAPES4, {'image_id': 2, 'cx': 100.5, 'cy': 80, 'width': 30,
                                    'height': 50, 'window_dims': 'square', 'pad': [3, 5]}),
    ('aid-dims', SHAPES4, {'aid': 5, 'window_dims': [40, 60], 'pad': 2, 'category_id': 3}),
    ('annot-scale-nearest', SHAPES4, {'annot_id': 7, 'scale': 0.5, 'interpolation': 'nearest',
                                      'antialias': False}),
    ('slices-channels-dtype', SHAPES4, {'gid': 3, 'slices': [[0, 64], [0, 64]],
                                        'channels': 'b|g', 'dtype': 'float32'}),
    ('nodata-float', SHAPES4, {'gid': 1, 'space_slice': [[-5, 30], [0, 30]], 'nodata': 'float'}),
    ('visible-with-annots', SHAPES4, {'gid': 1, 'space_slice': [[0, 200], [0, 200]],
                                      'visible_thresh': 0.5, 'with_annots': 'boxes'}),
    ('annot-ids', SHAPES4, {'gid': 1, 'space_slice': [[0, 200], [0, 200]],
                            'annot_ids': [1, 2, 3, 40]}),
    ('scale-xy-cubic', SHAPES4, {'gid': 1, 'space_slice': [[0, 50], [0, 50]],
                                 'scale': [2.0, 1.5], 'interpolation': 'cubic',
                                 'antialias': True}),
    ('video', MSI, {'vidid': 1, 'time_slice': [0, 2], 'space_slice': [[0, 64], [0, 64]],
                    'channels': 'B1|B8'}),
    ('video-slices-pad', MSI, {'video_id': 2, 'slices': [[1, 3], [10, 50], [20, 60]],
                               'pad': [1, 2, 2], 'channels': 'B11'}),
    ('gids', MSI, {'gids': [1, 2], 'space_slice': [[5, 45], [0, 40]], 'channels': 'B10'}),
    ('image-ids-nodata', MSI, {'image_ids': [5, 6], 'space_slice': [[-4, 30], [0, 30]],
                               'channels': 'B1', 'nodata': 'float'}),
    ('realign', MSI, {'vidid': 1, 'time_slice': [0, 2], 'space_slice': [[0, 40], [0, 40]],
                      'channels': 'B8|B11', 'use_native_scale': True,
                      'realign_native': 'largest'}),
]


def _cli():
    exe = os.environ.get('NDSAMPLER_BIN') or str(ROOT / 'target' / 'debug' / 'ndsampler')
    assert os.path.exists(exe), f'the ndsampler CLI is not built at {exe} (run cargo xtask test)'
    return exe


def _rust_keys():
    """Every key Rust's Target accepts, from its own unknown-field message."""
    native = ndsampler_rs.CocoSampler(SHAPES4)._native
    with pytest.raises(ValueError) as err:
        native.load_sample(json.dumps({'gid': 1, 'no_such_key': 1}))
    keys = re.findall(r'`(\w+)`', str(err.value).split('expected one of', 1)[1])
    assert len(keys) > 20, str(err.value)
    return set(keys)


def _plain_target(t):
    """Our resolved target as the CLI writes it (without the reference's
    aliases and informational keys; slices as pairs)."""
    out = {}
    for k, v in t.items():
        if k in ('gid', 'vidid', 'gids', 'aid', 'slices', 'space_dims', 'data_dims',
                 'annot_idx'):
            continue
        if isinstance(v, slice):
            v = [v.start, v.stop]
        elif isinstance(v, tuple):
            v = [[s.start, s.stop] if isinstance(s, slice) else s for s in v]
        out[k] = v
    return out


def test_the_cases_use_every_rust_target_key():
    used = set()
    for _, _, target in CASES:
        used |= set(target)
    missing = _rust_keys() - used
    assert not missing, f'target keys no case sends through Python: {sorted(missing)}'


@pytest.mark.parametrize('name,dataset,target', CASES, ids=[c[0] for c in CASES])
def test_python_equals_the_cli(tmp_path, name, dataset, target):
    out = tmp_path / 'out'
    subprocess.run([_cli(), 'sample', str(dataset), '--target', json.dumps(target),
                    '--out', str(out)], check=True, capture_output=True)
    want = json.loads((out / 'sample.json').read_text())
    want_im = np.load(out / 'im.npy')
    got = ndsampler_rs.CocoSampler(dataset).load_sample(dict(target))
    assert got['im'].shape == want_im.shape
    assert got['im'].dtype == want_im.dtype
    np.testing.assert_array_equal(got['im'], want_im)
    want_aids = [a['id'] for f in want['frames'] for a in f['annots']]
    assert got['annots']['aids'].tolist() == want_aids
    want_boxes = np.array([a['bbox'] for f in want['frames'] for a in f['annots']],
                          dtype=float).reshape(-1, 4)
    boxes = got['annots']['rel_boxes']
    boxes = boxes.to_xywh().data if hasattr(boxes, 'to_xywh') else boxes
    np.testing.assert_allclose(boxes, want_boxes)
    for gf, wf in zip(got['annots']['frames'], want['frames']):
        assert [a.get('segmentation') for a in gf['annots']] == \
            [a.get('segmentation') for a in wf['annots']]
    assert _plain_target(got['target']) == want['target']


def test_padkw_is_not_dropped():
    """The class of issue 24 item 1: a fill mode changes the padding."""
    s = ndsampler_rs.CocoSampler(SHAPES4)
    t = {'gid': 1, 'space_slice': [[-10, 40], [350, 420]]}
    plain = s.load_sample(t)['im']
    reflect = s.load_sample(dict(t, padkw={'mode': 'reflect'}))['im']
    assert (plain[:10] == 0).all()
    assert not (reflect[:10] == 0).all()
    np.testing.assert_array_equal(reflect[10:, :50], plain[10:, :50])
    np.testing.assert_array_equal(reflect[:10], reflect[20:10:-1])


@pytest.mark.parametrize('key,value', [('as_xarray', True), ('optimize', False),
                                       ('interpolation', 'lanczos-ish'),
                                       ('finalize', 'yes'), ('legacy_annots', 2)])
def test_reference_keys_off_their_default_raise(key, value):
    s = ndsampler_rs.CocoSampler(SHAPES4)
    with pytest.raises(ValueError, match=key):
        s.load_sample({'gid': 1, 'space_slice': [[0, 8], [0, 8]], key: value})


def test_reference_keys_at_their_default_and_informational_keys_are_ignored():
    s = ndsampler_rs.CocoSampler(SHAPES4)
    t = {'gid': 1, 'space_slice': [[0, 32], [0, 32]]}
    want = s.load_sample(t)
    extra = dict(t, as_xarray=False, optimize=True, interpolation='auto', antialias='auto',
                 finalize=True, legacy_annots=True, legacy_target=True, verbose_ndsample=False,
                 aids=[999], img_width=1, img_height=1, rel_cx=0.5, rel_cy=0.5, aid=-1,
                 space_dims=(1, 1), data_dims=(1, 1), pad=None)
    got = s.load_sample(extra)
    np.testing.assert_array_equal(got['im'], want['im'])
    assert got['annots']['aids'].tolist() == want['annots']['aids'].tolist()


def test_aliases_must_agree():
    s = ndsampler_rs.CocoSampler(SHAPES4)
    ok = s.load_sample({'gid': 1, 'image_id': 1, 'space_slice': [[0, 8], [0, 8]],
                        'slices': (slice(0, 8), slice(0, 8))})
    assert ok['im'].shape == (8, 8, 3)
    with pytest.raises(ValueError, match="'image_id'=1 and 'gid'=2 disagree"):
        s.load_sample({'gid': 2, 'image_id': 1})
    with pytest.raises(ValueError, match='slices'):
        s.load_sample({'gid': 1, 'space_slice': [[0, 8], [0, 8]], 'slices': [[0, 9], [0, 8]]})
    # a resolved target goes back in as it came out
    again = s.load_sample(ok['target'])
    np.testing.assert_array_equal(again['im'], ok['im'])


def test_call_options_override_the_target_and_otherwise_the_target_counts():
    s = ndsampler_rs.CocoSampler(SHAPES4)
    t = {'gid': 1, 'space_slice': [[0, 200], [0, 200]], 'with_annots': 'boxes',
         'visible_thresh': 0.9, 'annot_ids': [1, 2]}
    by_target = s.load_sample(t)
    assert all(a.get('segmentation') is None for f in by_target['annots']['frames']
               for a in f['annots'])
    everything = s.load_sample(t, with_annots=True, visible_thresh=0.0, annot_ids=[1, 2, 3])
    assert any(a.get('segmentation') is not None for f in everything['annots']['frames']
               for a in f['annots'])
    assert set(everything['annots']['aids'].tolist()) > set(by_target['annots']['aids'].tolist())
