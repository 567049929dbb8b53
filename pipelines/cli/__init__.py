"""The `synthwright` command line: `main` runs it (the console script's entry point).

One module per command group, each registering its commands on the app (`app.py`, which holds what
they share and the error→exit mapping). They are imported in the order `synthwright --help` lists them.
"""

# isort: off
from synthwright.pipelines.cli import orchestrate  # run, serve, deploy, approve, reject, augment
from synthwright.pipelines.cli import contract  # contract infer, contract check
from synthwright.pipelines.cli import evaluate
from synthwright.pipelines.cli import models  # generators, fit, sample
from synthwright.pipelines.cli import versions
from synthwright.pipelines.cli import check
from synthwright.pipelines.cli.app import app, main

# isort: on

__all__ = ["app", "check", "contract", "evaluate", "main", "models", "orchestrate", "versions"]
