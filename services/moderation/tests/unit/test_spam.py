from datetime import UTC, datetime, timedelta

from socialops_moderation.rules.spam import SpamConfig, SpamTracker

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Feed:
    def __init__(self, config=None):
        self.tracker = SpamTracker(config)
        self.n = 0

    def post(self, author, text, *, seconds=None, account="page", event_id=None, item_id=None):
        self.n += 1
        at = T0 + timedelta(seconds=self.n * 20 if seconds is None else seconds)
        event_id = event_id or f"e{self.n}"
        hits = self.tracker.observe(account=account, author=author, event_id=event_id, item_id=item_id or event_id, text=text, at=at)
        return {h.rule_id for h in hits}


def test_the_same_author_repeating_exactly_or_nearly():
    feed = Feed()
    assert feed.post("a", "Köp billiga solglasögon på vår sida nu") == set()
    assert feed.post("a", "Köp billiga solglasögon på vår sida nu!") == {"spam.repeat"}
    assert feed.post("a", "Köp billiga solglasögonen på vår sida nu!!") == {"spam.repeat"}
    assert feed.post("b", "Köp billiga solglasögon på vår sida nu") == set()  # another author: not a repeat


def test_short_politeness_is_not_spam():
    feed = Feed()
    assert feed.post("a", "Tack!") == set()
    assert feed.post("a", "Tack!") == set()


def test_copy_paste_campaign_across_authors():
    feed = Feed()
    text = "Stoppa bygget av nya arenan vid Hamntorget, skriv under namninsamlingen idag"
    assert feed.post("x", text) == set()
    assert feed.post("y", text + "!") == set()
    assert feed.post("z", text.lower() + "!!") == {"spam.campaign"}


def test_flood_from_one_author():
    feed = Feed(SpamConfig(flood_count=4))
    results = [feed.post("a", f"kommentar nummer {word}") for word in ["ett", "två", "tre", "fyra"]]
    assert results[-1] == {"spam.flood"} and results[0] == set()


def test_redelivery_is_not_a_repeat_and_gets_the_same_answer():
    feed = Feed()
    assert feed.post("a", "Samma text som kommer två gånger", event_id="same") == set()
    assert feed.post("a", "Samma text som kommer två gånger", event_id="same") == set()


def test_an_edit_of_the_same_comment_is_not_a_repeat():
    feed = Feed()
    assert feed.post("a", "Jag tycker att parken är fin", item_id="c1") == set()
    assert feed.post("a", "Jag tycker att parken är fin!", item_id="c1", event_id="c1-edit") == set()


def test_history_expires_after_the_window_and_is_per_account():
    feed = Feed(SpamConfig(window=timedelta(minutes=10)))
    assert feed.post("a", "Köp billiga solglasögon på vår sida nu", seconds=0) == set()
    assert feed.post("a", "Köp billiga solglasögon på vår sida nu", seconds=11 * 60) == set()
    assert feed.post("a", "Köp billiga solglasögon på vår sida nu", seconds=11 * 60 + 5, account="other") == set()


def test_link_spam():
    feed = Feed()
    assert feed.post("a", "se www.hbg-vloggen.se/1") == set()
    assert feed.post("a", "se www.hbg-vloggen.se/2 nu") == set()
    assert feed.post("a", "och www.hbg-vloggen.se/3 här") == {"spam.links"}
