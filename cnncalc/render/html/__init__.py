"""The HTML report: a Jinja2 page (`page`) with a layered graph drawing (`dag`)."""
