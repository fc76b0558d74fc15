"""HTML forms of the funding pages, one module per area. They validate shape; services hold the rules."""
