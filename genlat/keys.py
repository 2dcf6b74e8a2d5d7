"""Names that both the metrics and the tracker use, kept below both so neither imports the other."""

MAIN_KEYS = ("fd", "kid", "precision", "recall", "ppl")  # eval/<key>; also columns of the epoch-series table
# What makes two evaluations comparable (the measurement stamp): the feature space with its weights'
# hash, the evaluation sample count and the metric code's version. Every metrics line with eval/
# numbers carries all three; the report compares only numbers whose stamps are equal.
STAMP_KEYS = ("eval/feature_space", "eval/samples", "eval/metric_version")
