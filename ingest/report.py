"""What the warehouse says about ingestion: the figures behind the Airflow page.

Each function takes a psycopg connection and returns plain rows (dicts), so the
Airflow plugin, the CLI or a notebook can show them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row


def _rows(conn: psycopg.Connection[Any], sql: str, params: Any = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return list(cur.execute(sql, params))


def freshness(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Per source: last success, last new item, last article, failing or not."""
    return _rows(conn, """
        SELECT source, feed_url, last_success_at, last_new_item_at, last_article_at,
               articles, failing, consecutive_failures, last_status, last_error
        FROM news.source_freshness ORDER BY failing DESC, source""")


def items_per_day(conn: psycopg.Connection[Any], days: int = 28,
                  today: date | None = None) -> list[dict[str, Any]]:
    """Articles first seen per UTC day over the last ``days`` days (zero days included)."""
    end = today or date.today()
    start = end - timedelta(days=days - 1)
    return _rows(conn, """
        SELECT d::date AS day, coalesce(sum(c.articles), 0)::integer AS articles
        FROM generate_series(%s::date, %s::date, interval '1 day') d
        LEFT JOIN news.daily_source_counts c ON c.day = d::date
        GROUP BY 1 ORDER BY 1""", (start, end))


def rejection_reasons(conn: psycopg.Connection[Any], days: int = 7) -> list[dict[str, Any]]:
    """Rejections by stage and reason over the last ``days`` days."""
    return _rows(conn, """
        SELECT stage, reason, count(*)::integer AS rejections,
               count(DISTINCT source)::integer AS sources
        FROM news.rejections
        WHERE rejected_at > now() - make_interval(days => %s) AND resolved_by IS NULL
        GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2""", (days,))


def recent_runs(conn: psycopg.Connection[Any], limit: int = 10) -> list[dict[str, Any]]:
    return _rows(conn, """
        SELECT run_id, trigger, started_at, finished_at, status, articles_new, rejections,
               message
        FROM news.runs ORDER BY started_at DESC LIMIT %s""", (limit,))


def rejected_page_types(conn: psycopg.Connection[Any], days: int = 7) -> list[dict[str, Any]]:
    """Pages kept out as not_an_article over the last ``days`` days, by page type."""
    return _rows(conn, """
        SELECT page_type, sum(pages)::integer AS pages, count(DISTINCT source)::integer AS sources
        FROM news.rejected_page_types
        WHERE day > (now() AT TIME ZONE 'UTC')::date - %s
        GROUP BY 1 ORDER BY 2 DESC, 1""", (days,))
