"""Sphinx extension for the student edition: drop every exercise solution from the pages.

sphinx-exercise's own `hide_solutions` crashes on gated solutions (solution-start/solution-end,
executablebooks/sphinx-exercise#89), so this removes the solution nodes after sphinx-exercise
has merged the gated ones (code cells included) and resolved its titles.
"""

from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx_exercise.nodes import solution_node


class RemoveSolutions(SphinxPostTransform):
    default_priority = 900  # after sphinx-exercise's post-transforms (5-22)

    def run(self, **kwargs):
        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def setup(app):
    app.add_post_transform(RemoveSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
