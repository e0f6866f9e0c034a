"""Uploaded documents of the evidence: policy versions (``evidence.policies``) and manual evidence of the checks
(``evidence.checks``) share them.

- ``uploads``: what is accepted (PDF, DOCX, Markdown; plus text and images for manual evidence), how an upload
  is checked before anything is stored, how it is stored and served back;
- ``scan``: what a reader of a document would see, as text, for the key-material scan, and its bounds.
"""
