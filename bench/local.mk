# bench/: benchmarks that print figures and ratios against the alternative.
