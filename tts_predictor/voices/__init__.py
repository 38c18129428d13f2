"""Voices: the catalogue of servable voices, cloning from samples, per-caller access and consent."""
