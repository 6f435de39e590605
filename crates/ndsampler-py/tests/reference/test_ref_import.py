# Vendored from ndsampler 0.8.1 tests/ (https://gitlab.kitware.com/computer-vision/ndsampler),
# Copyright Kitware, Inc., licensed under the Apache License, Version 2.0 (see LICENSE in
# this directory). Verbatim but for the import (``ndsampler`` -> ``ndsampler_rs``).


def test_import():
    import ndsampler_rs as ndsampler
