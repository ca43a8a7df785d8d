"""Builders of events and values for every test: defaults that make sense, override what matters."""
