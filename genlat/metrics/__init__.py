"""Measurements of generators (quality, coverage, smoothness, latent usage) in named feature spaces."""

# Part of every evaluation's stamp (eval/metric_version): bump it whenever a change to the metric
# code changes the numbers, so the report never compares numbers measured two ways.
# 2: shipped, hashed shapes nets; features (after the net) and every statistic in float64.
METRIC_VERSION = 2
