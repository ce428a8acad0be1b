"""Operations: health, metrics, logs, backups, upgrades and the mail check.

A layer of its own above the store, index, search, sync and digest layers, reached from
``web`` and the CLI (``cli/operations.py``), never the other way round.
"""
