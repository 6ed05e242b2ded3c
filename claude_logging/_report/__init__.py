"""`claude-logging report`: the log file's own analytics engine (DuckDB, the `report` extra).

The flow mirrors the library's: lines are read and normalised to the flat schema (`_reader`),
DuckDB summarises them (`_engine`), and a renderer writes the summary as a terminal table,
JSON, CSV, Markdown (`_text`) or a self-contained HTML page with charts (`_html`).
"""

from __future__ import annotations
