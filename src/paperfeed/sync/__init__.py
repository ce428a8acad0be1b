"""Syncing: fetch new papers from the network sources, store them, update the index.

Sources: arXiv's OAI-PMH interface (``arxiv``) and a daily-papers site's
``/api/daily_papers`` (``daily-papers``). ``run_sync`` runs the configured ones and
then the index update; ``scheduling`` runs that inside ``paperfeed serve``.
"""
