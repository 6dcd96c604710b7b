"""A test-only app that subscribes to the pipeline's outbox, as early warning will.

Installed by ``config/test_settings.py`` only (production registers no subscriber yet). Its
table has no migration: the test database creates it from the model.
"""
