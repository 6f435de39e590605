//! `region-index`: Per-frame R-tree of annotation boxes: overlap, visibility, IoU queries and negative-window mining.
