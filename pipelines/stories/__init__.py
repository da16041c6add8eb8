"""Group: each new article joins the story (event) it reports, or starts one.

`features` (pure, computed in the extraction workers) and `assign` (decides, through the store's index)."""

from pipelines.stories.assign import Decision, StoryIndex, assign
from pipelines.stories.fingerprints import Features, features

__all__ = ["Decision", "Features", "StoryIndex", "assign", "features"]
