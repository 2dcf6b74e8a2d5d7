"""Reports: what wandb-workspaces' `Report.save()` sends (views) and what it reads back."""
