"""`genlat sweep`: a W&B sweep file run with no server.

W&B's own search code (the `sweeps` package) picks the trials; each trial is started from the sweep's
`command:` exactly as `wandb agent` would start it, logs offline, and is a normal run directory.

    spec.py     load and check a sweep file (the package's schema, then train.py's own checks)
    command.py  render the agent's command (${env} ${interpreter} ${program} ${args} ...)
    search.py   the calls into the `sweeps` package (next_runs, stop_runs)
    trial.py    one trial (a row of sweep.json) and its owner, as dataclasses; who is alive
    state.py    DIR/sweep.json as a `Sweep`, read and changed under a file lock
    runner.py   scheduling: the main loop, claims, take-overs, the signals
    heartbeat.py  the runner's heartbeat thread (its trials stay its own while it lives)
    resources.py  what a trial is given: its command, environment, GPU or CPU threads
    procs.py    trial process groups (psutil): start, signal, wait, find an orphan's
    outcome.py  what happened to an attempt: status.json, exit code, the log's error line
    display.py  what the user watches: a live table on a terminal, plain lines otherwise
    status.py   `--status` (a table and the best trial) and `--sync` (wandb sync of every trial)
    cli.py      `genlat sweep ...`
"""
