//! Benchmarks of the toy data generators (filled in below).
fn main() {}
