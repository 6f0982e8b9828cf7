"""news-ingest: feeds to a PostgreSQL warehouse, through Airflow or a CLI.

Stages, each a module that knows nothing of Airflow::

    sources -> fetch -> parse -> resolve -> fetch -> extract -> dedup -> validate -> load

:func:`ingest.pipeline.run_pass` composes them; ``dags/`` and ``ingest.cli`` call it.
"""

__version__ = "0.1.0"
