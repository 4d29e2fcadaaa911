"""Cross-script personal names."""
from svidok.names.compare import THRESHOLD, ENGINE_VERSION, compare, score_pairs, compare_keys

