"""The base of the shared live widgets: a VBox kept fresh by a :class:`Poller`."""

from __future__ import annotations

import ipywidgets as w


class PolledBox(w.VBox):
    """A VBox refreshed by the :class:`~edalab.widgets.Poller` in ``self.poller``.

    ``stop()`` ends the refreshing (what is watched keeps running); ``close()`` also removes
    the view, so a closed widget never leaves a thread behind.
    """

    poller = None  # set by the subclass once it starts polling

    def stop(self) -> None:
        if self.poller is not None:
            self.poller.stop()

    def close(self) -> None:
        self.stop()
        super().close()
