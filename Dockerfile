# The news-ingest Airflow image: the official Airflow 3.3.2 image plus this project.
FROM apache/airflow:3.3.2-python3.11

USER airflow
COPY --chown=airflow:0 pyproject.toml constraints.txt README.md /opt/news-ingest/
COPY --chown=airflow:0 ingest /opt/news-ingest/ingest
COPY --chown=airflow:0 sql /opt/news-ingest/sql
RUN pip install --no-cache-dir -c /opt/news-ingest/constraints.txt -e /opt/news-ingest \
    "apache-airflow-providers-celery==3.26.0" "redis>=5,<7"
