"""Free-text search over what a client reads on a profile, by word stem.

The database does the linguistics: on SQLite an FTS5 index with the porter stemmer over the
unicode61 tokenizer (``remove_diacritics 2``), on PostgreSQL the ``english`` text-search
configuration (both created by migration ``directory.0003_search_index``). Either way
"couples" finds "couple" and "parenting" finds "parent". The answer is a set of therapist ids,
which the engine intersects with its filters.

A query's words must come out exactly as the index's words did, or a name is never found:

- SQLite: the words are split here on the characters unicode61 treats as separators (spaces,
  punctuation and symbols, so "O'Brien" is "O" and "Brien"), keeping letters, digits and marks
  of every script; each word goes to FTS5 as a quoted string, which FTS5 runs through the
  index's own tokenizer (case folding, accents removed from É but not from Ø or Ł, porter). A
  word unicode61 splits further (at some marks of Indic scripts) becomes a phrase of its
  pieces, matched side by side as the index has them.
- PostgreSQL: the query text itself goes to ``plainto_tsquery`` with the index's configuration,
  so PostgreSQL's parser reads it exactly as it read the profiles.

Every word is used (``MAX_TEXT_LENGTH`` bounds the query), and a word found nowhere finds
nobody, in any script. English stop words alone mean "no text filter" on both databases alike
(PostgreSQL drops them anyway; FTS5 would match nearly everything).
"""

from __future__ import annotations

import unicodedata

import numpy as np
from django.db import connection

TEXT_TABLE = "directory_therapist_text"
TEXT_COLUMNS = ("display_name", "headline", "about", "approach", "first_session")
# Must repeat the indexed expression of directory_profile_text_idx exactly.
POSTGRESQL_DOCUMENT = "to_tsvector('english'::regconfig, {})".format(
    " || ' ' || ".join(TEXT_COLUMNS)
)

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

# Separators for unicode61: spaces, punctuation, symbols and control characters (general
# categories Z*, P*, S*, Cc). Letters, digits, marks and the rest stay inside a word.
_SEPARATOR_CATEGORIES = ("Z", "P", "S", "Cc")


def _is_separator(char: str) -> bool:
    return unicodedata.category(char).startswith(_SEPARATOR_CATEGORIES)


def _has_word_character(word: str) -> bool:
    """A letter, a digit or a private-use character, which every index keeps: a "word" of
    marks or format characters alone is nothing FTS5 or PostgreSQL would index."""
    return any(
        unicodedata.category(char)[0] in "LN" or unicodedata.category(char) == "Co" for char in word
    )


def search_words(text: str) -> list[str]:
    """The words of ``text`` worth searching for, as typed: split where the index's tokenizer
    splits, without stop words or repeats (compared without case), every one of them."""
    words: list[str] = []
    seen: set[str] = set()
    current: list[str] = []
    for char in f"{text} ":
        if not _is_separator(char):
            current.append(char)
            continue
        if current:
            word = "".join(current)
            current = []
            folded = word.casefold()
            if folded in STOP_WORDS or folded in seen or not _has_word_character(word):
                continue
            seen.add(folded)
            words.append(word)
    return words


def matching_therapist_ids(text: str) -> np.ndarray | None:
    """Ids (sorted, int64) of therapists whose profile text has every word of ``text`` in some
    form, whether or not they are listed; None when ``text`` has no searchable word, meaning
    "no text filter"."""
    words = search_words(text)
    if not words:
        return None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The text as typed, so PostgreSQL's parser reads it as it read the profiles (it
            # keeps e.g. "2.5" and "e-mail" whole where the split above would not).
            cursor.execute("SELECT numnode(plainto_tsquery('english'::regconfig, %s))", [text])
            if cursor.fetchone()[0] == 0:  # only words PostgreSQL ignores
                return None
            cursor.execute(
                "SELECT id FROM directory_therapistprofile "  # noqa: S608 - constant SQL
                f"WHERE {POSTGRESQL_DOCUMENT} @@ plainto_tsquery('english'::regconfig, %s)",
                [text],
            )
        else:
            # Each word quoted: FTS5 reads a quoted string as plain text for its tokenizer,
            # never as query syntax (a double quote inside is written twice).
            match = " ".join('"{}"'.format(word.replace('"', '""')) for word in words)
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
