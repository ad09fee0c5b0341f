"""FAQ answers: Markdown staff write, drawn as HTML that cannot carry a script (portal/public/markdown.py)."""

import pytest

from portal.public.markdown import answer_text, render_answer, sanitise


def test_it_renders_ordinary_markdown():
    html = render_answer(
        "# Fees\n\nNEFT is **free**, IMPS is *cheap*.\n\n- one\n- two\n\n1. first\n\n> quoted\n\n"
        "`IFSC` and [rates](/rates/), [RBI](https://rbi.org.in), [mail](mailto:help@securebank.example)"
    )
    assert "<h3>Fees</h3>" in html
    assert "<strong>free</strong>" in html and "<em>cheap</em>" in html
    assert "<ul>\n<li>one</li>" in html and "<ol>" in html and "<blockquote>" in html
    assert "<code>IFSC</code>" in html
    assert '<a href="/rates/" rel="noopener noreferrer">rates</a>' in html
    assert '<a href="https://rbi.org.in" rel="noopener noreferrer">RBI</a>' in html
    assert 'href="mailto:help@securebank.example"' in html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "<div onclick='alert(1)'>raw html</div>",
        "<iframe src='https://evil.example'></iframe>",
        "<style>body{display:none}</style>",
    ],
)
def test_it_shows_raw_html_as_text(text):
    html = render_answer(text)
    assert "<" not in html.replace("<p>", "").replace("</p>", "")
    assert "&lt;" in html


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](file:///etc/passwd)",
    ],
)
def test_it_refuses_dangerous_links(link):
    assert "href" not in render_answer(link)


def test_it_draws_no_images():
    html = render_answer("![tracking pixel](https://evil.example/p.png)")
    assert "<img" not in html


def test_its_second_lock_cleans_html_that_the_markdown_step_let_through():
    html = sanitise(
        '<p onclick="x()">hi <script>alert(1)</script><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)" target="_blank">j</a><a href="https://ok.example">ok</a></p><h1>big</h1>'
    )
    assert "onclick" not in html and "<script" not in html and "alert(1)" not in html
    assert "<img" not in html and "javascript:" not in html and "target" not in html
    assert '<a href="https://ok.example" rel="noopener noreferrer">ok</a>' in html
    assert "<h1>" not in html


def test_it_moves_headings_below_the_pages_own():
    html = render_answer("# One\n\n## Two\n\n### Three\n\n#### Four")
    assert "<h1>" not in html and "<h2>" not in html
    assert html.count("<h3>") == 3 and "<h4>Four</h4>" in html


def test_its_plain_text_keeps_the_words_and_drops_the_marks():
    text = answer_text(
        "# Fees\n\nNEFT is **free**; see [the rates](https://x.example/rates).\n\n- `IFSC`\n- <b>raw</b>"
    )
    assert text == "Fees NEFT is free; see the rates. IFSC <b>raw</b>"
