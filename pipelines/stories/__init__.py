"""Stage 3, group: each new article joins the story (event) it reports, or starts one.

Wire reprints by MinHash, other outlets' versions by shared rare names and wording."""
