"""Fixtures for the grading machinery: course copies built on the dummy lab in fixture_course/.

The machinery is tested on its own small lab so it does not depend on the course's labs.
Generating costs seconds, so it happens once per session; each test gets a copy of that
generated course (every path in the config is relative to it, so a copy is a course).
"""

from __future__ import annotations

import shutil

import pytest
from grading_corpus import DUMMY, FIXTURE_SOURCE

from edalab.grading import Course
from edalab.grading.course import REPO
from edalab.grading.generate import generate


@pytest.fixture(scope="session")
def generated_template(tmp_path_factory):
    course = Course.at(REPO / "graders").copy_to(
        tmp_path_factory.mktemp("template") / "graders", source=FIXTURE_SOURCE)
    generate(course, [DUMMY])
    return course


@pytest.fixture
def new_course(generated_template, tmp_path):
    """``new_course()`` -> a Course with the dummy lab generated (gradebook, release, labs/)."""

    def make(name: str = "course") -> Course:
        shutil.copytree(generated_template.root.parent, tmp_path / name)
        return Course(tmp_path / name / "graders")

    return make
