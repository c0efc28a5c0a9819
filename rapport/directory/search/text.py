"""Free-text search over what a client reads on a profile, by word stem.

The database does the linguistics: on SQLite an FTS5 index with the porter stemmer, on
PostgreSQL the ``english`` text-search configuration (both created by migration
``directory.0003_search_index``). Either way "couples" finds "couple" and "parenting" finds
"parent". The answer is a set of therapist ids, which the engine intersects with its filters.

Words are taken from the text here, not handed to the database's query parser, so quotes,
operators and column filters a person types are just words. English stop words are dropped on
both databases alike (PostgreSQL would drop them anyway; FTS5 would match nearly everything).
"""

from __future__ import annotations

import re

import numpy as np
from django.db import connection

from rapport.core.geo import fold

TEXT_TABLE = "directory_therapist_text"
TEXT_COLUMNS = ("display_name", "headline", "about", "approach", "first_session")
# Must repeat the indexed expression of directory_profile_text_idx exactly.
POSTGRESQL_DOCUMENT = "to_tsvector('english'::regconfig, {})".format(
    " || ' ' || ".join(TEXT_COLUMNS)
)
MAX_WORDS = 8

# PostgreSQL's english.stop list (Snowball), so both databases ignore the same words.
STOP_WORDS = frozenset((
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
    "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself",
    "it", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which",
    "who", "whom", "this", "that", "these", "those", "am", "is", "are", "was", "were", "be",
    "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an",
    "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for",
    "with", "about", "against", "between", "into", "through", "during", "before", "after",
    "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under",
    "again", "further", "then", "once", "here", "there", "when", "where", "why", "how", "all",
    "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not",
    "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don",
    "should", "now",
))  # fmt: skip

_WORD = re.compile(r"[a-z0-9]+")


def search_words(text: str) -> list[str]:
    """The words of ``text`` worth searching for: accent-folded, lower-case, no stop words,
    no repeats, at most ``MAX_WORDS``."""
    words: list[str] = []
    for word in _WORD.findall(fold(text).replace("'", "")):
        if word not in STOP_WORDS and word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def matching_therapist_ids(text: str) -> np.ndarray | None:
    """Ids (sorted, int64) of therapists whose profile text has every word of ``text`` in some
    form, whether or not they are listed; None when ``text`` has no searchable word, meaning
    "no text filter"."""
    words = search_words(text)
    if not words:
        return None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT id FROM directory_therapistprofile "  # noqa: S608 - constant SQL
                f"WHERE {POSTGRESQL_DOCUMENT} @@ plainto_tsquery('english'::regconfig, %s)",
                [" ".join(words)],
            )
        else:
            # Each word quoted: FTS5 reads a quoted string as a plain term, never as syntax.
            # Every word comes from [a-z0-9]+, so there is no quote inside to escape.
            match = " ".join(f'"{word}"' for word in words)
            cursor.execute(
                f"SELECT rowid FROM {TEXT_TABLE} WHERE {TEXT_TABLE} MATCH %s",  # noqa: S608
                [match],
            )
        rows = cursor.fetchall()
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    ids.sort()
    return ids


def text_index_rebuild() -> None:
    """Rebuild the SQLite text index from the profile table (the triggers keep it in step; this
    repairs it after writes that bypassed them, e.g. a restore). PostgreSQL's index is a plain
    expression index and needs nothing."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TEXT_TABLE} ({TEXT_TABLE}) VALUES ('rebuild')"  # noqa: S608
        )
