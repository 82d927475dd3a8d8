"""Server-side sessions expire; CSRF tokens are per session; sign-in goes back only to this site."""

from __future__ import annotations

from socialops_console.pages_archive import search_query
from socialops_console.sessions import SessionStore, csrf_token, csrf_valid
from socialops_console.signin import _local


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_ends_after_its_idle_time_and_after_its_whole_lifetime() -> None:
    clock = Clock()
    store = SessionStore(max_age_s=8 * 3600, idle_s=1800, clock=clock)
    store.save("s1", {"person": "x"})
    clock.now += 1700
    assert store.load("s1") == {"person": "x"}  # and it was seen: idle counts again from here
    clock.now += 1700
    assert store.load("s1") == {"person": "x"}
    clock.now += 1801
    assert store.load("s1") is None and len(store) == 0
    store.save("s2", {"a": 1})
    for _ in range(20):
        clock.now += 1500
        store.load("s2")
    assert store.load("s2") is None  # 8 hours in all, however active
    assert store.load(None) is None and store.load("unknown") is None


def test_csrf_tokens_belong_to_their_session() -> None:
    session: dict = {}
    token = csrf_token(session)
    assert csrf_token(session) == token and csrf_valid(session, token)
    assert not csrf_valid(session, "forged") and not csrf_valid(session, None) and not csrf_valid({}, token)


def test_after_sign_in_only_paths_of_this_site() -> None:
    assert _local("/arkiv/sok?q=badhuset") == "/arkiv/sok?q=badhuset"
    for outside in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "arkiv"):
        assert _local(outside) == "/"


def test_the_search_form_becomes_the_archive_query() -> None:
    query = search_query({"q": " badhuset ", "from": "2026-11-30", "to": "2026-11-30", "removed": "ja",
                          "hidden": "kanske", "account": "", "page": "2"})
    assert query == {"q": "badhuset", "from": "2026-11-29T23:00:00+00:00", "to": "2026-11-30T23:00:00+00:00",
                     "removed": "true"}
    assert search_query({"from": "30/11/2026"}) == {}  # not a date: left out, not an error
