"""Moderation: the city's comment rules applied to every comment, review API and platform actions.

Start reading at `main.py` (the service) and `classify.py` (what the rules find).
"""
