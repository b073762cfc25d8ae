"""Driving JupyterLab from Playwright: open a notebook, run it, wait for the kernel.

The server runs with ``expose_app_in_browser`` so the tests call JupyterLab's own commands
(``notebook:run-all-cells``, ``docmanager:save``) instead of hunting menu items whose
labels change between versions; what the learner sees is still checked on the page.
"""

from __future__ import annotations

CURRENT = "window.jupyterapp.shell.currentWidget"

KERNEL_IDLE = f"""() => {{
  const w = {CURRENT};
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
}}"""

ALL_RUN = f"""() => {{
  const w = {CURRENT};
  const k = w.sessionContext.session.kernel;
  if (k.status !== 'idle') return false;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  return cells.every(c => c.model.executionCount !== null && !c.promptNode.textContent.includes('*'));
}}"""


def open_notebook(page, jupyter: dict, path: str) -> None:
    page.goto(f"{jupyter['url']}/lab/tree/{path}?token={jupyter['token']}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           f"&& {CURRENT}.context && {CURRENT}.context.path === {path!r}")
    page.wait_for_function(KERNEL_IDLE, timeout=120_000)


def run(page, command: str, args: dict | None = None) -> None:
    page.evaluate("([c, a]) => window.jupyterapp.commands.execute(c, a)", [command, args or {}])


def run_all_cells(page, timeout: float = 180_000) -> None:
    run(page, "notebook:run-all-cells")
    page.wait_for_timeout(300)  # let the kernel leave "idle" before polling for it again
    page.wait_for_function(ALL_RUN, timeout=timeout, polling=250)


def panel(page):
    """The notebook in the current tab (other open tabs keep their DOM, hidden)."""
    panel_id = page.evaluate(f"() => {CURRENT}.id")
    return page.locator(f"[id='{panel_id}']")


def error_outputs(page) -> list[str]:
    """``ename: evalue`` of every error output in the current notebook (read from the
    notebook model: on the page an error and a stderr print look alike)."""
    return page.evaluate(f"""() => {CURRENT}.content.widgets
        .filter(c => c.model.type === 'code')
        .flatMap(c => c.model.outputs.toJSON())
        .filter(o => o.output_type === 'error')
        .map(o => o.ename + ': ' + o.evalue)""")


MERMAID = ".jp-RenderedMermaid img[src^='data:image/svg+xml']"


def mermaid_svgs(page) -> list[str]:
    """SVG documents of the mermaid diagrams the browser rendered and displayed.

    JupyterLab 4 renders a ```mermaid block to an SVG and shows it as an ``<img>`` with a data
    URL; an image the browser could not decode has ``naturalWidth`` 0 and is left out.
    """
    images = panel(page).locator(MERMAID)
    images.first.wait_for(state="visible")
    images.first.evaluate("i => i.decode()")  # resolves once the browser has decoded it
    return images.evaluate_all("""imgs => imgs
        .filter(i => i.complete && i.naturalWidth > 0)
        .map(i => decodeURIComponent(i.src.slice(i.src.indexOf(',') + 1)))""")


def cells(page):
    """The cells of the notebook in the current tab."""
    return panel(page).locator(".jp-Notebook .jp-Cell")


def type_into_cell(page, index: int, text: str) -> None:
    """Replace a code cell's text by typing, as a learner would (select all, then type).

    ``insert_text`` types the characters without the editor's auto-closing brackets and
    auto-indent, which would otherwise double parentheses and indentation.
    """
    editor = cells(page).nth(index).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Escape")


def save(page) -> None:
    run(page, "docmanager:save")
    page.wait_for_function(f"() => !{CURRENT}.context.model.dirty")


def cell_index(page, grade_id: str) -> int:
    """Index of the cell with this nbgrader ``grade_id`` in the current notebook (-1 if none)."""
    return page.evaluate(f"""(id) => {CURRENT}.content.widgets.findIndex(
        c => (c.model.getMetadata('nbgrader') || {{}}).grade_id === id)""", grade_id)
