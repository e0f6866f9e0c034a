"""The home page: what needs attention, by role. ``selectors`` reads the figures once (from the inventory, the
latest check run, findings, policies and campaigns, through their own selectors); ``charts`` draws them as
server-side SVG (no JavaScript); ``views`` is the page (routed as ``home`` in ``cek/urls.py``)."""
