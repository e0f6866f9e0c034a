"""Sessions read from the cache and written through to the database (Django's ``cached_db``), that keep working
on the database alone when the cache cannot be reached: Django's own backend already reads past a failing cache,
but raises when it puts the session back into it, checks whether a key exists or deletes one, which would answer
every page with a 500 while Redis is down."""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception as exc:
            logger.warning("Session read from the database only: the cache is unavailable (%s)", exc)
        return data

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except Exception as exc:
            logger.warning("Session looked up in the database only: the cache is unavailable (%s)", exc)
        return cached_db.DBStore.exists(self, session_key)

    def delete(self, session_key=None):
        cached_db.DBStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception as exc:  # the database row is gone: a cached copy expires with the session
            logger.warning("Session not dropped from the cache: it is unavailable (%s)", exc)
