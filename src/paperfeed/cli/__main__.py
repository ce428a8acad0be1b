"""``python -m paperfeed.cli``: the ``paperfeed`` command."""

from paperfeed.cli import main

main()
