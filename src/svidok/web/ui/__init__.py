"""Server-rendered pages (Jinja2, escaped by default; they work with JavaScript off)."""
