"""`genlat sweep`: a W&B sweep file run with no server.

W&B's own search code (the `sweeps` package) picks the trials; each trial is started from the sweep's
`command:` exactly as `wandb agent` would start it, logs offline, and is a normal run directory.

    spec.py     load and check a sweep file (the package's schema, then train.py's own checks)
    command.py  render the agent's command (${env} ${interpreter} ${program} ${args} ...)
    search.py   the calls into the `sweeps` package (next_runs, stop_runs)
    state.py    DIR/sweep.json: trials, their states and metric histories, under a file lock
    procs.py    trial process groups: start, signal, wait
    runner.py   the workers, the signals, the main loop
    display.py  what the user watches: a live table on a terminal, plain lines otherwise
    status.py   `--status` (a table and the best trial) and `--sync` (wandb sync of every trial)
    cli.py      `genlat sweep ...`
"""
