import os

from hypothesis import settings

pytest_plugins = [
    "tests.support.apiserver_fixtures",
    "tests.support.browser",
]

# CI replays the same examples every run: a red CI then means a change broke something, not that
# the dice found an old bug. Exploration with fresh random examples happens on developers' runs.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
