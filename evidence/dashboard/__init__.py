"""The home page: what needs attention, by role. ``selectors`` reads the figures once (from the inventory, the
latest check run, findings, policies and campaigns, through their own selectors); ``charts`` draws them as
server-side SVG (no JavaScript); ``views`` is the page, ``urls`` its route (``home``, included at the site root by ``cek/urls.py``)."""
