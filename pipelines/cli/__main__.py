"""`python -m synthwright.pipelines.cli`: the same as the `synthwright` command."""

from synthwright.pipelines.cli import main

main()
