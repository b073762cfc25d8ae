"""nbgrader, learner side, on the class hub: the class exchange, assignments fetched into the
learner's home (``~/lab06_sqs_standard/``), the submission cache in the home too.

The spawner sets ``EDALAB_EXCHANGE`` to the exchange it mounts into the learner's sandbox;
nbgrader names each submission after the login the sandbox gives the learner's uid.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

c.CourseDirectory.course_id = "edalab"
c.Exchange.root = os.environ["EDALAB_EXCHANGE"]
c.Exchange.path_includes_course = False
c.Exchange.assignment_dir = os.environ.get("HOME", ".")
c.Exchange.cache = os.path.join(os.environ.get("HOME", "."), ".nbgrader_cache")
