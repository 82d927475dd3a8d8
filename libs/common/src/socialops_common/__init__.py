"""Shared contract and plumbing of the social-media operations platform."""
