from socialops_moderation.rules.links import LinkLists, classify_links


def rules(text, lists=None):
    return {h.rule_id for h in classify_links(text, lists)}


def test_official_sources_pass_and_others_are_judged():
    assert rules("Läs på https://www.krisinformation.se/x och 1177.se") == set()
    assert rules("Kolla bit.ly/3xYz") == {"links.shortener"}
    assert rules("Sanningen på samnytt.se/artikel") == {"links.blocked"}
    assert rules("se minblogg.wordpress.com/inlagg") == {"links.unknown"}
    assert rules("https://medium.com/@hbg/sanningen") == {"links.unknown"}


def test_an_email_address_is_not_a_link():
    assert rules("Mejla kommunikation@helsingborg.se eller anna@gmail.com") == set()


def test_rumour_wordings():
    assert rules("SPRID DETTA! Kommunen mörkar att vattnet är förgiftat") == {"links.rumour"}


def test_lists_are_configuration():
    lists = LinkLists.from_data({"allow": ["minblogg.se"], "block": ["bit.ly"], "shorteners": []})
    assert rules("minblogg.se/a", lists) == set()
    assert rules("bit.ly/x", lists) == {"links.blocked"}
