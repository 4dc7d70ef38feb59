pytest_plugins = [
    "tests.support.apiserver_fixtures",
    "tests.support.browser",
]
