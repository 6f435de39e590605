# Vendored from ndsampler 0.8.1 tests/ (https://gitlab.kitware.com/computer-vision/ndsampler),
# Copyright Kitware, Inc., licensed under the Apache License, Version 2.0 (see LICENSE in
# this directory). Verbatim but for the import (``ndsampler`` -> ``ndsampler_rs``).
# Left out: test_video_channel_alignment_parts, which tests the reference's private
# frame internals (frames._build_pathinfo, _load_alignable, _load_prefused_region).


def test_image_channel_alignment_api():
    import ndsampler_rs as ndsampler
    sampler = ndsampler.CocoSampler.demo('vidshapes5-multispectral', num_frames=5, backend=None)

    sample = sampler.load_sample({'gid': 1, 'channels': '<all>'})
    assert sample['im'].shape == (600, 600, 5)

    sample = sampler.load_sample({'gid': 1, 'slices': (slice(0, 10), slice(0, 10)), 'channels': '<all>'})
    assert sample['im'].shape == (10, 10, 5)

    sample = sampler.load_sample({'gid': 1, 'slices': (slice(-10, 700), slice(0, 10)), 'channels': '<all>'})
    assert sample['im'].shape == (710, 10, 5)


def test_vid_channel_alignment_api():
    import ndsampler_rs as ndsampler
    sampler = ndsampler.CocoSampler.demo('vidshapes5-multispectral', num_frames=5, backend=None)

    sample = sampler.load_sample({'vidid': 1, 'channels': '<all>'})
    assert sample['im'].shape == (5, 600, 600, 5)

    sample = sampler.load_sample({'vidid': 1, 'slices': (slice(None), slice(0, 10), slice(0, 10)), 'channels': '<all>'})
    assert sample['im'].shape == (5, 10, 10, 5)

    sample = sampler.load_sample({'vidid': 1, 'slices': (slice(0, 3), slice(0, 10), slice(0, 10)), 'channels': '<all>'})
    assert sample['im'].shape == (3, 10, 10, 5)

    # Dont try to pad time yet
    # sample = sampler.load_sample({'vidid': 1, 'slices': (slice(0, 8), slice(0, 10), slice(0, 10)), 'channels': '<all>'})
    # assert sample['im'].shape == (8, 10, 10, 5)
