"""Stage one of the report: what the runs wrote, read into plain records and grouped into a Study.
runs.py reads a run directory, study.py a sweep or loose run directories (and groups the runs into
settings), wandb.py the same records from the W&B public API, stamps.py which of them may be compared."""
