"""nbgrader, instructor side, on the class hub: the class's course folder (the instructor's
home in their server) with its gradebook, so formgrader works on the class's submissions."""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

load_subconfig(os.path.join(os.environ["EDALAB_COURSE"], "nbgrader_config.py"))  # noqa: F821
c.Exchange.root = os.environ["EDALAB_EXCHANGE"]
