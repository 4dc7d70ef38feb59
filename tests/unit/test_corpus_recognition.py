"""docs/patterns.md reports what every helper container of tests/corpus imports as; the report is the
corpus's, never edited by hand (`python -m tests.support.recognition_report` rewrites it)."""

from tests.support.recognition_report import END, PAGE, START, page_with_report


def test_the_patterns_page_reports_the_recognition_on_the_corpus_as_it_is():
    page = PAGE.read_text()
    assert START in page and END in page
    assert page == page_with_report(page), "run: python -m tests.support.recognition_report"
