"""Demo data placeholder replaced below."""


def seed(*, session) -> str:
    return "no demo data yet"
