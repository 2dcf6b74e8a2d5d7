"""Stage three of the report: the Document in each format. html.py (the report.html.jinja template,
report.css, image_check.js), markdown.py (report.md) and wandb.py (a W&B Report, `--publish`) render
the same Document, so they can never disagree."""
