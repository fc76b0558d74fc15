"""Funding pages, one module per area; each module lists its own ``urlpatterns``."""
