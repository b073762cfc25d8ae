"""A class on one machine: JupyterHub serving the course, one isolated stack per learner.

``spawner.py`` (LocalProcessSpawner in a per-learner sandbox), ``netns.py`` (a network
namespace per learner), ``sandbox.py`` (bubblewrap + setpriv), ``singleuser.py`` (stack, then
the server, inside the sandbox), ``auth.py`` (NativeAuthenticator with generated accounts),
``classroom.py`` (the class folder), ``cli.py`` (``edalab hub``). ``learner/`` and
``instructor/`` are the Jupyter config folders each kind of server gets. The hub's own
config is ``classroom/jupyterhub_config.py``.
"""
