//! `sampler`: CocoSampler: targets to windows with annotations, positive/negative/grid regions, batch loader.
