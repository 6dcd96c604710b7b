"""Tasks the test suite sends through a real django-q2 cluster."""


def always_fails(message: str) -> None:
    raise RuntimeError(message)
