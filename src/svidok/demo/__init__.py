"""The fictional demo scenario: a city under a crackdown, with ground truth.

`generate` fills an empty register with places, units and rosters, incidents,
acts and perpetrators, testimonies that mention people the way real sources
write names, custody logs, missing-person cases and evidence metadata. Every
name, place and text is invented. The true identity behind each mention, the
true incident behind each source and piece of evidence, and the true custody
record behind each missing-person case go to `<data_dir>/ground_truth/*.csv`,
never into the register: finding them is the linking engine's job.

The generator renders names with its own small transliterators (`translit`)
and never imports `svidok.names`, so the engine under test cannot supply its
own ground truth.
"""

from __future__ import annotations
