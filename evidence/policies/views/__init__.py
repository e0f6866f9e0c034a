"""Policy pages, by what they do: ``policies`` (list, page, create and edit), ``versions`` (drafts, submission,
approval, sending to audiences, the document) and ``acknowledgements`` (the user's pending versions and record).
Three modules rather than one ``views.py``: together they are close to the 500-line limit, and each is a step
of its own in a policy's life."""
