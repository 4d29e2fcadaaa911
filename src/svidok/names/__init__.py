"""Cross-script personal names: normalise, transliterate, parse, key, compare, explain.

Pure code: the only I/O is reading this package's own data files, once, on first
use. The public API below is what the linking engine and search use.
"""

from __future__ import annotations

from svidok.names.batch import PairScorer, score_pairs
from svidok.names.compare import (
    ENGINE_VERSION,
    THRESHOLD,
    Comparison,
    compare,
    compare_keys,
)
from svidok.names.keys import NameKeys, name_keys, search_keys
from svidok.names.parse import ParsedName, parse_name
from svidok.names.translit import to_cyrillic, to_latin

__all__ = [
    "ENGINE_VERSION",
    "THRESHOLD",
    "Comparison",
    "PairScorer",
    "NameKeys",
    "ParsedName",
    "compare",
    "compare_keys",
    "name_keys",
    "parse_name",
    "score_pairs",
    "search_keys",
    "to_cyrillic",
    "to_latin",
]
