"""Tables of the protection layer (audit log, keys, custody events): added by the security work."""

from __future__ import annotations
