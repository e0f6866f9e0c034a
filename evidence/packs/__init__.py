"""Auditor evidence packs: a frozen, signed bundle for an observation window and scope, built by a worker.

- ``models``: packs (status, progress, files, digests) and their download log;
- ``jobs``: the writes (request, retry, cancel, the stale-build watchdog, expiry and cleanup, the download log);
  ``builder``: building one (the service the build task calls);
- ``scope``, ``sample``, ``content``, ``data``, ``pdf``, ``fetcher``, ``manifest``, ``signing``: what goes into a
  pack and how it is rendered, hashed and signed; ``verify``: checking a pack file;
- ``selectors``: the reads of the pack pages; ``forms``, ``views``, ``urls``: the pages; ``tasks``: build,
  watchdog and cleanup on a worker.
"""
