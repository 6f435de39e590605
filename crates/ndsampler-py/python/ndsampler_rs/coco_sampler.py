"""``ndsampler.coco_sampler``'s names (``from ndsampler_rs.coco_sampler import *``)."""
from ndsampler_rs import CocoSampler

__all__ = ['CocoSampler']
