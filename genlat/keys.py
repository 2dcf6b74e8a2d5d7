"""Names that both the metrics and the tracker use, kept below both so neither imports the other."""

MAIN_KEYS = ("fd", "kid", "precision", "recall", "ppl")  # eval/<key>; also columns of the epoch-series table
