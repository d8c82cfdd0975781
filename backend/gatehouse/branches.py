"""A conversation's messages as a tree: retry and edit make branches, one of them is active.

Every message has a position (its id within the conversation, never reused) and a parent (the
message before it on its branch; None for a first message). A retried reply is a sibling of
the reply it replaces (both answer the same message); an edited message is a sibling of the
message it rewrites. Among siblings one at most is *chosen*; the active branch starts at the
chosen first message and follows chosen children until a message has none chosen (a retry
whose new reply failed ends at the person's message). Claude and the person see the active
branch only; the others are kept, to switch back to.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BranchPoint:
    """Where a message sits among its siblings: 0-based `index` of `len(siblings)`."""

    index: int
    siblings: list[int]


@dataclass
class Tree:
    parents: dict[int, int | None] = field(default_factory=lambda: dict[int, int | None]())
    chosen: set[int] = field(default_factory=lambda: set[int]())
    _children: dict[int | None, list[int]] = field(
        default_factory=lambda: dict[int | None, list[int]]()
    )

    def add(self, position: int, parent: int | None, *, chosen: bool = True) -> None:
        """A message (added in position order); chosen, it becomes the active one among its
        siblings. A parent that is not in the tree makes it a first message."""
        parent = parent if parent in self.parents else None
        self.parents[position] = parent
        self._children.setdefault(parent, []).append(position)
        if chosen:
            self.choose(parent, position)

    def next_position(self) -> int:
        return max(self.parents, default=-1) + 1

    def children(self, parent: int | None) -> list[int]:
        return self._children.get(parent, [])

    def choose(self, parent: int | None, child: int | None) -> None:
        """`child` becomes the chosen one of `parent`'s children (None: none of them)."""
        self.chosen.difference_update(self.children(parent))
        if child is not None:
            self.chosen.add(child)

    def active_branch(self) -> list[int]:
        branch: list[int] = []
        parent: int | None = None
        while chosen := [p for p in self.children(parent) if p in self.chosen]:
            parent = chosen[-1]
            branch.append(parent)
        return branch

    def path_to(self, position: int) -> list[int]:
        """The messages from the first one down to `position`."""
        path: list[int] = []
        current: int | None = position
        while current is not None and current not in path:  # a loop in stored data ends here
            path.append(current)
            current = self.parents.get(current)
        return path[::-1]

    def select(self, position: int) -> list[tuple[int | None, int]]:
        """Make `position` part of the active branch (below it, the children chosen before
        stay chosen); return each (parent, child) choice made, for the store."""
        made = [(self.parents[p], p) for p in self.path_to(position)]
        for parent, child in made:
            self.choose(parent, child)
        return made

    def branch_point(self, position: int) -> BranchPoint | None:
        """Its place among its siblings; None when it has none."""
        siblings = self.children(self.parents[position])
        if len(siblings) < 2:
            return None
        return BranchPoint(siblings.index(position), siblings)
