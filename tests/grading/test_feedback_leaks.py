"""Feedback pages on real autograded notebooks: a page that shows hidden-test text in any
encoding a learner could print it in is withheld (that page only), clean pages are written and
released, and `collect --from` followed by `feedback --release` works from the command line.

Each smuggler holds one hidden line of the dummy lab XOR-masked in its source (so the source
itself shows nothing) and unmasks and encodes it while it is graded, as a learner who read the
hidden tests at that moment would.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys

import nbformat
import pytest
from grading_corpus import DUMMY, SOLUTION

from edalab.grading.feedback import _html_text, generate_feedback, hidden_lines
from edalab.grading.leaks import BEGIN, END

SOURCE = nbformat.read(SOLUTION, as_version=4)
HIDDEN = next(ln.strip() for c in SOURCE.cells
              for region in re.findall(re.escape(BEGIN) + r"(.*?)" + re.escape(END), c.source, re.S)
              for ln in region.splitlines() if "answer == 42" in ln)
PIECE = "check(type(answer) is int and answer == 42,"  # the code of the line, without its message

# name -> code that prints `secret` encoded (run in the learner's kernel while graded)
ENCODINGS = {
    "as_written": "print(secret)",
    "base64": "import base64\nprint(base64.b64encode(secret.encode()).decode())",
    "base64_urlsafe": "import base64\nprint('token=' + base64.urlsafe_b64encode(secret.encode()).decode())",
    "base64_wrapped": "import base64, textwrap\nprint('\\n'.join(textwrap.wrap(base64.b64encode(secret.encode()).decode(), 7)))",
    "base64_reversed": "import base64\nprint(base64.b64encode(secret.encode()).decode()[::-1])",
    "base64_of_hex": "import base64\nprint(base64.b64encode(secret.encode().hex().encode()).decode())",
    "hex": "print(secret.encode().hex())",
    "hex_separated": "print(secret.encode().hex(':'))",
    "backslash_x": "print(''.join('\\\\x%02x' % b for b in secret.encode()))",
    "unicode_escapes": "print(''.join('\\\\u%04x' % ord(c) for c in secret))",
    "rot13": "import codecs\nprint(codecs.encode(secret, 'rot13'))",
    "caesar_3": "print(''.join(chr((ord(c) - 97 + 3) % 26 + 97) if c.islower() else c for c in secret))",
    "rot47": "print(''.join(chr(33 + (ord(c) - 33 + 47) % 94) if 33 <= ord(c) <= 126 else c for c in secret))",
    "reversed": "print(secret[::-1])",
    "percent": "import urllib.parse\nprint(urllib.parse.quote(secret, safe=''))",
    "quoted_printable": "print(''.join('=%02X' % b for b in secret.encode()))",
    "html_entities": "print(''.join('&#%d;' % ord(c) for c in secret))",
    "zlib_base64": "import base64, zlib\nprint(base64.b64encode(zlib.compress(secret.encode())).decode())",
    "gzip_hex": "import gzip\nprint(gzip.compress(secret.encode()).hex())",
    "bz2_base85": "import base64, bz2\nprint(base64.b85encode(bz2.compress(secret.encode())).decode())",
    "lzma_base32": "import base64, lzma\nprint(base64.b32encode(lzma.compress(secret.encode())).decode())",
    "ascii85": "import base64\nprint(base64.a85encode(secret.encode()).decode())",
    "utf16_base64": "import base64\nprint(base64.b64encode(secret.encode('utf-16-le')).decode())",
    "char_codes": "print(list(map(ord, secret)))",
    "bits": "print(' '.join(format(b, '08b') for b in secret.encode()))",
    "split_lines": "for i in range(0, len(secret), 4):\n    print(secret[i:i + 4])",
    "split_outputs": "from IPython.display import display\nfor i in range(0, len(secret), 9):\n    display(secret[i:i + 9])",
    "numbered_lines": "for n, i in enumerate(range(0, len(secret), 5)):\n    print(f'{n:03d}: {secret[i:i + 5]}')",
    "dotted": "print('.'.join(secret))",
    "upper_case": "print(secret.upper())",
    "fullwidth": "print(''.join(chr(ord(c) + 0xFEE0) if 33 <= ord(c) <= 126 else c for c in secret))",
    "zero_width": "print('\\u200b'.join(secret))",
    "lookalike_letters": "print(secret.replace('a', '\\u0430').replace('e', '\\u0435').replace('o', '\\u043e'))",
    "result_value": "secret[::-1]",
    "exception_message": "import base64\nraise RuntimeError(base64.b64encode(secret.encode()).decode())",
    "piece_of_line_base64": "import base64\nprint(base64.b64encode(secret.encode()).decode())",
}
CLEAN = {
    "good": None,
    "prints_check_message": "print('answer must be the whole number 42 (an int).')",
    "prints_its_work": "print('add(1, 2) =', 1 + 2)\nprint({'QueueUrl': 'http://127.0.0.1/123456789012/orders'})",
    "html_only_output": "from IPython.display import HTML, display\ndisplay(HTML(secret))",
}


def _masked(text: str) -> str:
    return f"bytes(b ^ 90 for b in {[b ^ 90 for b in text.encode()]}).decode()"


def _submission(name: str, code: str | None) -> str:
    nb = copy.deepcopy(SOURCE)
    if code is not None:
        secret = PIECE if name.startswith("piece") else HIDDEN
        cell = next(c for c in nb.cells if c.get("id") == "answer-answer")
        cell.source = f"answer = 42\nsecret = {_masked(secret)}\n{code}"
    return nbformat.writes(nb)


def _verdict_smuggler() -> str:
    """The hidden line comes back as the message of a test cell's error (the verdict channel)."""
    nb = copy.deepcopy(SOURCE)
    cell = next(c for c in nb.cells if c.get("id") == "answer-add")
    cell.source = ("import base64\n\ndef add(a, b):\n"
                   f"    raise ValueError(base64.b64encode({_masked(HIDDEN)}.encode()).decode())")
    return nbformat.writes(nb)


def _insecure() -> bool:
    """Grade without the sandbox only where this machine cannot make one (feedback is the
    subject here, not isolation)."""
    from edalab.grading import sandbox

    return not sandbox.available()


@pytest.fixture(scope="module")
def fed_back(stack, generated_template, tmp_path_factory):
    import shutil

    from edalab.grading import Course
    from edalab.grading.autograde import Options, autograde

    root = tmp_path_factory.mktemp("leaks") / "course"
    shutil.copytree(generated_template.root.parent, root)
    course = Course(root / "graders")
    for name, code in {**ENCODINGS, **CLEAN}.items():
        course.submit(name, DUMMY, text=_submission(name, code))
    course.submit("verdict_message", DUMMY, text=_verdict_smuggler())
    options = Options(insecure=_insecure())
    outcomes = {o.student: o for o in autograde(course, DUMMY, workers=2, options=options)}
    said = []
    pages = generate_feedback(course, DUMMY, release=True, say=said.append)
    return course, outcomes, pages, said


@pytest.mark.parametrize("name", [*ENCODINGS, "verdict_message"])
def test_a_page_that_shows_hidden_text_is_withheld(fed_back, name):
    course, outcomes, pages, said = fed_back
    assert outcomes[name].status == "graded"
    assert name in pages.withheld, f"{name}: released although it prints the hidden line"
    assert "hidden-test text" in pages.withheld[name]
    assert re.search(r"(cell \d+|all) (output|error)", pages.withheld[name]), pages.withheld[name]
    assert not list((course.feedback / name / DUMMY).glob("*.html"))
    assert any(line.startswith(f"withheld the feedback of {name}:") for line in said)


@pytest.mark.parametrize("name", CLEAN)
def test_a_clean_page_is_written_and_released(fed_back, name):
    course, outcomes, pages, said = fed_back
    assert name not in pages.withheld, pages.withheld.get(name)
    page = course.feedback / name / DUMMY / f"{DUMMY}.html"
    assert page in pages
    html = page.read_text()
    assert "HIDDEN-CHECK" not in html and "BEGIN HIDDEN TESTS" not in html
    assert "check(add(1, 2) == 3" not in html  # the visible test's code is not shown either
    assert "Traceback (most recent call last)" not in html


def test_the_class_is_released_around_withheld_pages(fed_back):
    course, outcomes, pages, said = fed_back
    released = list((course.root.parent / ".edalab" / "exchange" / "edalab" / "feedback").glob("*.html"))
    assert len(released) == len(pages) == len(CLEAN)
    html_only = (course.feedback / "html_only_output" / DUMMY / f"{DUMMY}.html").read_text()
    assert "text/html output not shown in feedback" in html_only
    page = (course.feedback / "good" / DUMMY / f"{DUMMY}.html").read_text()
    assert "answer = 42" in _html_text(page)  # the learner's own answer is there


def test_a_failed_check_shows_its_message_not_its_code(fed_back):
    course, outcomes, pages, said = fed_back
    page = (course.feedback / "verdict_message" / DUMMY)
    assert not list(page.glob("*.html"))
    clean = (course.feedback / "prints_check_message" / DUMMY / f"{DUMMY}.html").read_text()
    assert "answer must be the whole number 42" in clean
    assert "type(answer) is int" not in clean
    assert HIDDEN not in clean and hidden_lines(course, DUMMY)


def edalab(*args):
    return subprocess.run([sys.executable, "-m", "edalab", *args], capture_output=True, text=True,
                          env=dict(os.environ))


def test_collect_from_files_then_release_feedback(stack, new_course, tmp_path):
    """`collect --from` (no exchange submission, so no timestamp.txt from nbgrader) then
    `feedback --release`: the clean page is released, the smuggler's withheld with a warning
    and exit 0, or exit 1 with --strict."""
    import zipfile

    course = new_course()
    folder = tmp_path / "lms"
    folder.mkdir()
    (folder / "alice.ipynb").write_bytes(SOLUTION.read_bytes())
    (folder / "mallory.ipynb").write_text(_submission("base64", ENCODINGS["base64"]))
    os.utime(folder / "alice.ipynb", (1_700_000_000, 1_700_000_000))
    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(SOLUTION, "download/bob/whatever.ipynb")
        zf.write(SOLUTION, "download/carol.ipynb")
    c = ["grade", "--course", str(course.root)]
    for source in (folder, archive):
        result = edalab(*c, "collect", DUMMY, "--from", str(source))
        assert result.returncode == 0, result.stdout + result.stderr
    stamp = (course.submitted / "alice" / DUMMY / "timestamp.txt").read_text()
    assert stamp.startswith("2023-11-14 22:13:20")
    assert (course.submitted / "carol" / DUMMY / "timestamp.txt").is_file()
    result = edalab(*c, "autograde", DUMMY, "--workers", "2", *(["--insecure"] if _insecure() else []))
    assert result.returncode == 0, result.stdout + result.stderr

    result = edalab(*c, "feedback", DUMMY, "--release")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning: withheld the feedback of mallory" in result.stdout
    assert "released to the exchange" in result.stdout
    released = list((course.root.parent / ".edalab" / "exchange" / "edalab" / "feedback").glob("*.html"))
    assert len(released) == 3
    assert not list((course.feedback / "mallory" / DUMMY).glob("*.html"))

    strict = edalab(*c, "feedback", DUMMY, "--release", "--strict")
    assert strict.returncode == 1 and "Withheld 1 page(s)" in strict.stdout
