"""The users of ``benchmarks/load.py`` (locust): GRC staff and a key owner, each with the session ``load.py`` logged
in once through the login form, browsing the dashboard, the key list (filtered, deep pages), key pages and the API
key list. Not run on its own: ``load.py`` writes the configuration (``CEK_LOAD_CONFIG``: sessions, key ids, page
counts) and chooses the mode (``CEK_LOAD_MODE``: ``closed``, each user sends its next request as soon as the last
one answered; ``open``, each user paces itself to ``CEK_LOAD_USER_RATE`` requests a second). ``FastHttpUser``
(geventhttpclient): locust runs on the same two cores as the server, and its HTTP client costs a fifth of the
``requests`` one's CPU per request."""

from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, constant, constant_throughput, task

CONFIG = json.loads(open(os.environ["CEK_LOAD_CONFIG"], encoding="utf-8").read())
MODE = os.environ.get("CEK_LOAD_MODE", "closed")
USER_RATE = float(os.environ.get("CEK_LOAD_USER_RATE", "1"))
FILTERS = ("state=active", "purpose=inference-log-encryption", "overdue=true", "q=infer", "ordering=-updated_at")


class Visitor(FastHttpUser):
    abstract = True
    max_redirects = 0  # a redirect (to the login page) is an error, not followed (allow_redirects=False fails here)
    wait_time = constant(0) if MODE == "closed" else constant_throughput(USER_RATE)
    role = ""

    def on_start(self) -> None:
        config = CONFIG[self.role]
        # The session cookie is sent as a header: it is a Secure cookie (production settings), which a cookie jar
        # keeps to HTTPS, and the benchmark talks plain HTTP to gunicorn on 127.0.0.1.
        self.headers = {"Cookie": f"{CONFIG['cookie']}={config['session']}"}
        self.keys = config["keys"]
        self.pages = config["pages"]

    def get(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, headers=self.headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    @task(3)
    def dashboard(self) -> None:
        self.get("/", f"{self.role}: dashboard")

    @task(2)
    def key_list_filtered(self) -> None:
        self.get(f"/inventory/keys/?{random.choice(FILTERS)}", f"{self.role}: key list, filtered")

    @task(2)
    def key_list_deep(self) -> None:
        self.get(f"/inventory/keys/?page={random.randint(1, self.pages)}", f"{self.role}: key list, any page")

    @task(3)
    def key_page(self) -> None:
        self.get(f"/inventory/keys/{random.choice(self.keys)}/", f"{self.role}: key page")

    @task(2)
    def api_list(self) -> None:
        page = random.randint(1, self.pages)
        query = random.choice((f"page={page}", f"state=active&page={min(page, 20)}"))
        self.get(f"/api/v1/keys/?{query}", f"{self.role}: API key list")


class GrcVisitor(Visitor):
    role = "grc"


class OwnerVisitor(Visitor):
    role = "owner"
