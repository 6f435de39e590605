"""``ndsampler.coco_regions``'s names (``from ndsampler_rs.coco_regions import *``)."""
from ndsampler_rs import (CocoRegions, MissingNegativePool, new_image_sample_grid,
                          new_video_sample_grid, select_positive_regions,
                          tabular_coco_targets)

__all__ = ['CocoRegions', 'MissingNegativePool', 'new_image_sample_grid',
           'new_video_sample_grid', 'select_positive_regions', 'tabular_coco_targets']
